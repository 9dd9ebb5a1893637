import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core';
import { defaultLoraTargetModules, describeBaseModel, parseTrainingJob } from '../src/internal.js';
import { tempDir } from './helpers.js';

describe('parseTrainingJob', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('fills the defaults of the issue: LoRA r=8, alpha=16, dropout 0.05 on the attention projections', () => {
    const job = parseTrainingJob({ baseModel: 'google/flan-t5-small', data: { train: 'train.jsonl' } });
    expect(job.method).toBe('lora');
    expect(job.lora).toEqual({ r: 8, alpha: 16, dropout: 0.05, targetModules: ['q', 'k', 'v', 'o'] });
    expect(job.architecture).toBe('encoder-decoder');
    expect(job.precision).toBe('bf16');
    expect(job.earlyStoppingPatience).toBe(2);
  });

  it('uses q_proj/k_proj/v_proj/o_proj for decoder-only models and keeps overrides', () => {
    const llama = parseTrainingJob({ baseModel: 'meta-llama/Llama-3.2-1B', data: { train: 't' } });
    expect(llama.architecture).toBe('decoder-only');
    expect(llama.lora.targetModules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const custom = parseTrainingJob({ baseModel: 'meta-llama/Llama-3.2-1B', lora: { r: 16, alpha: 32, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] }, data: { train: 't' } });
    expect(custom.lora).toEqual({ r: 16, alpha: 32, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] });
  });

  it('leaves target modules to the worker for unknown families', () => {
    const job = parseTrainingJob({ baseModel: 'someone/mystery-model', data: { train: 't' } });
    expect(job.architecture).toBe('unknown');
    expect(job.lora.targetModules).toBeUndefined();
  });

  it('reads a local model folder config.json before guessing from the name', async () => {
    const folder = join(dir, 'tiny-model');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'config.json'), JSON.stringify({ model_type: 'gpt2', is_encoder_decoder: false }));
    expect(describeBaseModel(folder)).toEqual({ family: 'gpt2', architecture: 'decoder-only', modelType: 'gpt2' });
    expect(defaultLoraTargetModules(folder)).toEqual(['c_attn', 'attn.c_proj']);
    const t5 = join(dir, 'tiny-t5');
    await mkdir(t5, { recursive: true });
    await writeFile(join(t5, 'config.json'), JSON.stringify({ model_type: 't5', is_encoder_decoder: true }));
    expect(describeBaseModel(t5).architecture).toBe('encoder-decoder');
  });

  it.each([
    ['facebook/bart-base', 'encoder-decoder', ['q_proj', 'k_proj', 'v_proj', 'out_proj']],
    ['facebook/opt-125m', 'decoder-only', ['q_proj', 'k_proj', 'v_proj', 'out_proj']],
    ['EleutherAI/pythia-70m', 'decoder-only', ['query_key_value', 'dense']],
    ['gpt2', 'decoder-only', ['c_attn', 'attn.c_proj']],
    ['Qwen/Qwen2.5-0.5B-Instruct', 'decoder-only', ['q_proj', 'k_proj', 'v_proj', 'o_proj']],
    ['google/mt5-base', 'encoder-decoder', ['q', 'k', 'v', 'o']],
    ['Salesforce/codet5-small', 'encoder-decoder', ['q', 'k', 'v', 'o']],
  ])('knows %s', (id, architecture, modules) => {
    expect(describeBaseModel(id).architecture).toBe(architecture);
    expect(defaultLoraTargetModules(id)).toEqual(modules);
  });

  it('rejects bad specs with a ValidationError naming the fields and a hint', () => {
    const attempt = () =>
      parseTrainingJob({ baseModel: '', epochs: -1, precision: 'fp8' as 'bf16', data: { train: 'x' } });
    expect(attempt).toThrow(ValidationError);
    try {
      attempt();
    } catch (error) {
      const issues = (error as ValidationError).issues.map((issue) => issue.path);
      expect(issues).toEqual(expect.arrayContaining(['baseModel', 'epochs', 'precision']));
      expect((error as ValidationError).hint).toMatch(/^Fix the listed fields/);
    }
    expect(() => parseTrainingJob({ baseModel: 'gpt2', learningRate: 3, data: { train: 'x' } })).toThrow(/learning rate/);
    expect(() => parseTrainingJob({ baseModel: 'gpt2', lora: { r: 8, alpha: 16, dropout: 0.05, targetModules: [] }, data: { train: 'x' } })).toThrow(
      /lora.targetModules/,
    );
  });
});

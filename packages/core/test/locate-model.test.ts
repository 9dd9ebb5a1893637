import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executorForModel, findRunPromptSpec, locateModel, portableTrainedModel, preferredFormat, toRunRelative, type Executor, type TrainedModel } from '../src/internal.js';

let root: string;
const touch = async (path: string, text = '') => {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-locate-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A training job folder as the worker leaves it: LoRA adapter, merged copy, ONNX fp32 + q8. */
async function job(dir: string): Promise<string> {
  await touch(join(dir, 'job.json'), '{}');
  const output = join(dir, 'output');
  for (const folder of ['adapter', 'merged']) await touch(join(output, folder, 'config.json'), '{}');
  await touch(join(output, 'adapter', 'adapter_config.json'), '{}');
  await touch(join(output, 'merged', 'model.safetensors'));
  await touch(join(output, 'onnx', 'onnx', 'encoder_model.onnx'));
  await touch(join(output, 'onnx', 'onnx', 'encoder_model_quantized.onnx'));
  await touch(join(output, 'result.json'), JSON.stringify({ model: 'merged', adapter: 'adapter', merged: 'merged', tokenizer: 'merged', metrics: {} }));
  return output;
}

describe('locateModel', () => {
  it('answers for a job folder, its output/ folder and a model folder inside it', async () => {
    const dir = join(root, 'job');
    const output = await job(dir);
    const expected = { merged: join(output, 'merged'), adapter: join(output, 'adapter'), 'onnx-fp32': join(output, 'onnx'), 'onnx-q8': join(output, 'onnx') };
    expect(locateModel(dir)).toMatchObject({ kind: 'job', formats: expected, tokenizer: join(output, 'merged') });
    expect(locateModel(output).formats).toEqual(expected);
    // The merged folder finds its own weights and the job's export beside it.
    expect(locateModel(join(output, 'merged')).formats).toEqual({ merged: join(output, 'merged'), 'onnx-fp32': join(output, 'onnx'), 'onnx-q8': join(output, 'onnx') });
    expect(preferredFormat(locateModel(dir))).toEqual({ format: 'onnx-fp32', path: join(output, 'onnx') });
  });

  it('answers for a run folder whose trained-model.json records paths relative to itself', async () => {
    const run = join(root, 'run');
    const output = await job(join(run, 'training', 'local-1'));
    const model: TrainedModel = { backend: 'local', reference: join(output, 'merged'), kind: 'local-folder', baseModel: 't5-small', method: 'lora', artifacts: { merged: join(output, 'merged'), onnx: join(output, 'onnx') }, metrics: {} };
    const stored = portableTrainedModel(model, run);
    expect(stored.reference).toBe('training/local-1/output/merged');
    await writeFile(join(run, 'trained-model.json'), JSON.stringify(stored));
    const location = locateModel(run);
    expect(location.kind).toBe('run');
    expect(location.trained?.reference).toBe(join(output, 'merged'));
    expect(location.formats).toMatchObject({ merged: join(output, 'merged'), 'onnx-fp32': join(output, 'onnx'), 'onnx-q8': join(output, 'onnx') });
  });

  it('finds a plain PyTorch folder, its <folder>-onnx export, an adapter alone, and nothing in an empty folder', async () => {
    const plain = join(root, 'plain');
    await touch(join(plain, 'config.json'), '{}');
    await touch(join(plain, 'pytorch_model.bin'));
    await touch(join(`${plain}-onnx`, 'onnx', 'model.onnx'));
    expect(locateModel(plain).formats).toEqual({ pytorch: plain, 'onnx-fp32': `${plain}-onnx` });
    const adapter = join(root, 'lora');
    await touch(join(adapter, 'adapter_config.json'), '{}');
    expect(locateModel(adapter).formats).toEqual({ adapter });
    await mkdir(join(root, 'empty'));
    expect(locateModel(join(root, 'empty')).formats).toEqual({});
    expect(() => locateModel(join(root, 'missing'))).toThrow(/is not a folder/);
  });

  it('keeps paths outside the run folder absolute', () => {
    expect(toRunRelative('/runs/a', '/runs/a/training/x')).toBe('training/x');
    expect(toRunRelative('/runs/a', '/models/base')).toBe('/models/base');
    expect(toRunRelative('/runs/a', '/runs/ab/x')).toBe('/runs/ab/x');
  });
});

describe('findRunPromptSpec', () => {
  it("finds the run's prompt spec from the model folder itself up to <run>/training/<job>/output/onnx, the nearest first", async () => {
    const run = join(root, 'spec-run');
    const onnx = join(run, 'training', 'job-1', 'output', 'onnx');
    await mkdir(onnx, { recursive: true });
    expect(findRunPromptSpec(onnx)).toBeUndefined();
    await writeFile(join(run, 'prompt-spec.json'), '{}');
    expect(findRunPromptSpec(onnx)).toBe(join(run, 'prompt-spec.json'));
    expect(findRunPromptSpec(run)).toBe(join(run, 'prompt-spec.json'));
    // Five levels down is another run's business.
    await mkdir(join(onnx, 'deeper'), { recursive: true });
    expect(findRunPromptSpec(join(onnx, 'deeper'))).toBeUndefined();
    await writeFile(join(run, 'training', 'prompt-spec.json'), '{}');
    expect(findRunPromptSpec(onnx)).toBe(join(run, 'training', 'prompt-spec.json'));
  });
});

describe('executorForModel', () => {
  const echo = (name: string): Executor => ({ specificationVersion: 'v1', name, modelId: name, execute: async (inputs) => inputs.map((output) => ({ output, latencyMs: 0 })) });

  it('runs the preferred format whose runtime the table has, and says what is missing otherwise', async () => {
    const output = await job(join(root, 'table'));
    const model: TrainedModel = { backend: 'local', reference: output, kind: 'local-folder', baseModel: 't5-small', method: 'lora', artifacts: {}, metrics: {} };
    const seen: string[] = [];
    const table = {
      onnx: ({ format, path }: { format: string; path: string }) => (seen.push(`${format} ${path}`), echo('onnx')),
      'python-worker': ({ format }: { format: string }) => (seen.push(format), echo('python')),
    };
    expect(executorForModel(model, { instruction: '' }, table).name).toBe('onnx');
    expect(executorForModel(model, { instruction: '' }, table, { format: 'onnx-q8' }).name).toBe('onnx');
    expect(executorForModel(model, { instruction: '' }, { 'python-worker': table['python-worker'] }).name).toBe('python');
    expect(seen).toEqual([`onnx-fp32 ${join(output, 'onnx')}`, `onnx-q8 ${join(output, 'onnx')}`, 'merged']);
    expect(() => executorForModel(model, { instruction: '' }, {})).toThrow(/no `onnx` entry/);
    expect(() => executorForModel({ ...model, kind: 'managed-model', reference: 'ft:x' }, { instruction: '' }, table)).toThrow(/no `language-model` entry/);
  });
});

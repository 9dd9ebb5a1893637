import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, readJsonlAll, type ProgressEvent, type TrainedModel } from '@prompt2model/core/internal';
import { createTrainer, defaultPython, LocalBackend, parseTrainingJob, WorkerExecutor } from '../src/internal.js';
import { jobDirOf, makeContext, tempDir } from './helpers.js';

// The real Python worker on CPU, on tiny models built from configs. Runs only where a Python with
// torch, transformers, peft and tokenizers is available (set P2M_PYTHON to it); skipped elsewhere.
const python = defaultPython();
// One torch thread: two on a busy 2-core machine were 5-10x slower.
const THREADS = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const hasStack = spawnSync(python, ['-c', 'import torch, transformers, peft, tokenizers']).status === 0;
const TINY_MODELS = resolve(import.meta.dirname, '../python/bench/tiny_models.py');

function buildTiny(out: string, kind: 't5' | 'llama'): { model: string; instruction: string } {
  const result = spawnSync(python, [TINY_MODELS, '--out', out, '--kind', kind, '--hidden', '64', '--layers', '2', '--rows', '64'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
}

async function predict(model: TrainedModel, instruction: string, inputs: string[], out: string) {
  const { context, events } = await makeContext(out);
  const executor = new WorkerExecutor({ model, instruction, python, env: THREADS, batchSize: 3, maxNewTokens: 24 });
  const predictions = await executor.execute(inputs, context);
  return { predictions, events };
}

const losses = (events: ProgressEvent[]) => events.flatMap((e) => (e.type === 'progress' && e.counters?.loss !== undefined ? [e.counters.loss] : []));

describe.skipIf(!hasStack)('the real Python worker (CPU, tiny models)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()), 120_000);
  afterAll(() => cleanup());

  it('trains a decoder-only model with LoRA: loss falls, adapter and merged copy saved', async () => {
    const tiny = buildTiny(join(dir, 'llama'), 'llama');
    const out = join(dir, 'run-llama');
    const { context, events } = await makeContext(out);
    const job = parseTrainingJob({
      baseModel: tiny.model,
      instruction: tiny.instruction,
      epochs: 3,
      batchSize: 8,
      learningRate: 5e-3,
      precision: 'fp32',
      data: { train: join(dir, 'llama/train.jsonl'), validation: join(dir, 'llama/validation.jsonl') },
    });
    expect(job.architecture).toBe('decoder-only');
    expect(job.lora.targetModules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const model = await createTrainer({ backend: new LocalBackend({ python, env: THREADS }) }).train(job, context);
    // Progress every step; the loss on the first and last step and at most once a second between.
    const steps = events.flatMap((event) => (event.type === 'progress' && event.stage === 'train' && event.done > 0 ? [event.done] : []));
    expect(new Set(steps)).toEqual(new Set(Array.from({ length: 24 }, (_, i) => i + 1)));
    const seen = losses(events);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(24);
    expect(seen.at(-1)!).toBeLessThan(seen[0]!);
    expect(model.metrics.eval_loss).toBeGreaterThan(0);
    // Why training ended, for the run report: all 24 planned steps ran, so not early stopping.
    expect(model.metrics).toMatchObject({ global_step: 24, max_steps: 24, stopped_early: 0 });
    expect(existsSync(join(model.reference, 'config.json'))).toBe(true);
    expect(existsSync(join(model.artifacts.adapter!, 'adapter_config.json'))).toBe(true);

  }, 180_000);

  it('stops an encoder-decoder full fine-tune on Ctrl-C with a checkpoint, and resumes from it', async () => {
    const tiny = buildTiny(join(dir, 't5'), 't5');
    const out = join(dir, 'run-t5');
    const input = {
      baseModel: tiny.model,
      instruction: tiny.instruction,
      method: 'full' as const,
      epochs: 2,
      batchSize: 8,
      learningRate: 1e-3,
      precision: 'fp32' as const,
      earlyStoppingPatience: 0,
      data: { train: join(dir, 't5/train.jsonl'), validation: join(dir, 't5/validation.jsonl') },
    };
    const controller = new AbortController();
    const first = await makeContext(out, { signal: controller.signal });
    first.context.events.on((event) => {
      if (event.type === 'progress' && event.done === 3) controller.abort(new Error('Ctrl-C'));
    });
    const error = await createTrainer({ backend: new LocalBackend({ python, env: THREADS, probe: false }) }).train(parseTrainingJob(input), first.context).catch((e: unknown) => e);
    expect(AbortError.isInstance(error)).toBe(true);
    const jobDir = await jobDirOf(out);
    const stored = await readJsonlAll<{ type: string; step?: number }>(join(out, 'training/events.jsonl'));
    const checkpoint = stored.filter((e) => e.type === 'checkpoint').at(-1);
    // The stored events in the message: a worker that stopped without a checkpoint says why there.
    expect(checkpoint?.step, JSON.stringify(stored)).toBeGreaterThanOrEqual(3);
    expect(existsSync(join(jobDir, `output/checkpoint-${checkpoint!.step}/trainer_state.json`))).toBe(true);

    const second = await makeContext(out);
    const model = await createTrainer({ backend: new LocalBackend({ python, env: THREADS, probe: false }) }).train(parseTrainingJob(input), second.context);
    const firstProgress = second.events.find((e) => e.type === 'progress');
    expect(firstProgress).toMatchObject({ done: checkpoint!.step, total: 16 });
    expect(model.kind).toBe('local-folder');
    expect(model.reference).toBe(join(jobDir, 'output/model'));
    expect(existsSync(join(model.reference, 'model.safetensors'))).toBe(true);

    const rows = await readJsonlAll<{ input: string; output: string }>(join(dir, 't5/validation.jsonl'));
    const { predictions } = await predict(model, tiny.instruction, rows.slice(0, 5).map((row) => row.input), join(dir, 'predict-t5'));
    // The seq2seq path of predict mode on the saved full fine-tune (two epochs teach it little).
    expect(predictions).toHaveLength(5);
    expect(predictions.every((p) => typeof p.output === 'string' && p.latencyMs > 0)).toBe(true);
  }, 240_000);

  it('predicts with a trained model: the merged copy and the adapter on its base agree, in input order', async () => {
    const tiny = buildTiny(join(dir, 'llama-predict'), 'llama');
    const out = join(dir, 'run-llama-predict');
    const { context } = await makeContext(out);
    const job = parseTrainingJob({
      baseModel: tiny.model,
      instruction: tiny.instruction,
      epochs: 40,
      batchSize: 8,
      learningRate: 1e-2,
      precision: 'fp32',
      evalEachEpoch: false,
      earlyStoppingPatience: 0,
      data: { train: join(dir, 'llama-predict/train.jsonl') },
    });
    const model = await createTrainer({ backend: new LocalBackend({ python, env: THREADS, probe: false }) }).train(job, context);
    const rows = await readJsonlAll<{ input: string; output: string }>(join(dir, 'llama-predict/validation.jsonl'));
    const inputs = rows.map((row) => row.input);
    const merged = await predict(model, tiny.instruction, inputs, join(dir, 'predict-merged'));
    expect(merged.predictions).toHaveLength(inputs.length);
    expect(merged.predictions.every((p) => p.latencyMs > 0)).toBe(true);
    const batchEnds = Array.from({ length: Math.ceil(inputs.length / 3) }, (_, i) => Math.min((i + 1) * 3, inputs.length));
    expect(merged.events.flatMap((e) => (e.type === 'progress' ? [e.done] : []))).toEqual([0, ...batchEnds]);
    // Trained, the model answers in digits (the untrained one echoes prompt words).
    expect(merged.predictions.filter((p) => /^\d( \d)*$/.test(p.output)).length).toBeGreaterThan(inputs.length / 2);
    const adapterOnly: TrainedModel = { ...model, reference: model.artifacts.adapter!, artifacts: { adapter: model.artifacts.adapter!, tokenizer: model.artifacts.adapter! } };
    const viaAdapter = await predict(adapterOnly, tiny.instruction, inputs, join(dir, 'predict-adapter'));
    expect(viaAdapter.predictions.map((p) => p.output)).toEqual(merged.predictions.map((p) => p.output));
    // Other batches (other padding) give the same greedy answers, each back in its input's place.
    const reversed = await predict(model, tiny.instruction, [...inputs].reverse(), join(dir, 'predict-reversed'));
    expect(reversed.predictions.map((p) => p.output).reverse()).toEqual(merged.predictions.map((p) => p.output));
  }, 240_000);
});

import { executorForModel, locateTrainedModel } from '@prompt2model/core/internal';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, formatTrainingPrompt, Prompt2ModelError, type ProgressEvent, type TrainedModel } from '@prompt2model/core/internal';
import { WorkerExecutor, workerExecutors, type WorkerExecutorInit } from '../src/index.js';
import { makeContext, tempDir } from './helpers.js';

const FAKE_PREDICT = resolve(import.meta.dirname, 'fixtures/fake-predict-worker.mjs');
const instruction = 'Add one.';
const inputs = ['1', '2', 'ü\n{"json": 3}', '4', '5'];

function localModel(reference: string, artifacts: TrainedModel['artifacts'] = { model: reference, merged: reference, tokenizer: reference }): TrainedModel {
  return { backend: 'local', reference, kind: 'local-folder', baseModel: 'google/flan-t5-small', method: 'lora', artifacts, metrics: {} };
}

function executor(scenario: string, extra: Partial<WorkerExecutorInit> = {}): WorkerExecutor {
  return new WorkerExecutor({
    model: localModel('/runs/x/training/local-abc/output/merged'),
    instruction,
    workerCommand: [process.execPath, FAKE_PREDICT],
    env: { FAKE_PREDICT_SCENARIO: scenario },
    batchSize: 2,
    ...extra,
  });
}

const progressOf = (events: ProgressEvent[]) => events.flatMap((e) => (e.type === 'progress' ? [[e.done, e.total]] : []));

describe('WorkerExecutor with a stand-in predict worker', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('p2m-predict-test-')));
  afterAll(() => cleanup());

  it('sends training-format prompts, reports progress per batch, and returns predictions with the worker latencies', async () => {
    const { context, events } = await makeContext(join(dir, 'run-ok'));
    const run = executor('success');
    const predictions = await run.execute(inputs, context);
    // The stand-in echoes each prompt: the worker got exactly the training textualisation, in order.
    expect(predictions.map((p) => p.output)).toEqual(inputs.map((input) => formatTrainingPrompt(instruction, input)));
    expect(predictions.map((p) => p.latencyMs)).toEqual([1, 1, 2, 2, 3]);
    expect(progressOf(events)).toEqual([
      [0, 5],
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    expect(run.lastRun).toMatchObject({ requests: 5, costUsd: 0, cachedRequests: 0 });
    expect(run.modelId).toBe('/runs/x/training/local-abc/output/merged');
    // The worker's own log lines reach the run's events (non-JSON output as debug detail).
    expect(events.some((e) => e.type === 'log' && e.level === 'info' && e.message.startsWith('argv '))).toBe(true);
    expect(events.some((e) => e.type === 'log' && e.level === 'debug' && e.message === 'Loading weights: 100%')).toBe(true);
  });

  it('puts predictions back in input order whatever order the worker wrote them in', async () => {
    const { context } = await makeContext(join(dir, 'run-reversed'));
    const predictions = await executor('reversed', { formatInput: (input) => `<${input}>` }).execute(inputs, context);
    expect(predictions.map((p) => p.output)).toEqual(inputs.map((input) => `<${input}>`));
  });

  it('without worker latencies, gives every example the call wall time divided by the number of inputs', async () => {
    const { context } = await makeContext(join(dir, 'run-no-latency'));
    const run = executor('no-latency');
    const predictions = await run.execute(inputs, context);
    expect(new Set(predictions.map((p) => p.latencyMs)).size).toBe(1);
    expect(predictions[0]!.latencyMs).toBeCloseTo(run.lastRun.wallMs / inputs.length, 9);
  });

  it('keeps inputs and predictions in workDir when given one, and does not start a worker for no inputs', async () => {
    const workDir = join(dir, 'kept');
    const { context, events } = await makeContext(join(dir, 'run-kept'));
    await executor('success', { workDir }).execute(['7'], context);
    expect(JSON.parse(await readFile(join(workDir, 'inputs.jsonl'), 'utf8'))).toEqual({ prompt: formatTrainingPrompt(instruction, '7') });
    expect(JSON.parse(await readFile(join(workDir, 'predictions.jsonl'), 'utf8'))).toMatchObject({ index: 0 });
    const before = events.length;
    expect(await executor('crash').execute([], context)).toEqual([]);
    expect(progressOf(events.slice(before))).toEqual([[0, 0]]);
  });

  it('turns an error event into a Prompt2ModelError with its hint', async () => {
    const { context } = await makeContext(join(dir, 'run-fail'));
    const error = await executor('fail').execute(inputs, context).catch((e: unknown) => e);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^Prediction with .*merged failed: RuntimeError: CUDA out of memory/);
    expect((error as { hint?: string }).hint).toMatch(/--batch-size/);
  });

  it('names the pip install command when torch/transformers are missing', async () => {
    const { context } = await makeContext(join(dir, 'run-deps'));
    const error = await executor('missing-deps').execute(inputs, context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Python packages not installed .*torch, transformers/);
    expect((error as { hint?: string }).hint).toMatch(/^Install the missing packages: pip install "torch>=2\.1" "transformers>=4\.40"/);
  });

  it('reports a worker that dies without done, with the end of its stderr', async () => {
    const { context } = await makeContext(join(dir, 'run-crash'));
    const error = await executor('crash').execute(inputs, context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/The prediction worker stopped \(exit code 3\) without reporting done\.[\s\S]*RuntimeError: boom/);
  });

  it('refuses a predictions file that misses rows', async () => {
    const { context } = await makeContext(join(dir, 'run-short'));
    await expect(executor('short').execute(inputs, context)).rejects.toThrow(/wrote 3 of 5 predictions/);
  });

  it('stops the worker on Ctrl-C and throws AbortError', async () => {
    const controller = new AbortController();
    const { context } = await makeContext(join(dir, 'run-cancel'), { signal: controller.signal });
    context.events.on((event) => {
      if (event.type === 'progress' && event.done === 2) controller.abort(new Error('Ctrl-C'));
    });
    const workDir = join(dir, 'cancel-work');
    const many = Array.from({ length: 50 }, (_, i) => String(i));
    const error = await executor('slow', { batchSize: 1, workDir }).execute(many, context).catch((e: unknown) => e);
    expect(AbortError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('Prediction was cancelled.');
    const written = (await readFile(join(workDir, 'predictions.jsonl'), 'utf8')).trim().split('\n');
    expect(written.length).toBeLessThan(50);
    // The stand-in wrote its pid in its working folder; the executor waited for it to exit.
    const pid = Number(await readFile(join(workDir, 'worker.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it('does not start when the run is already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const { context, events } = await makeContext(join(dir, 'run-aborted'), { signal: controller.signal });
    await expect(executor('success').execute(inputs, context)).rejects.toSatisfy((e) => AbortError.isInstance(e));
    expect(events).toHaveLength(0);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('WorkerExecutor arguments', () => {
  const saved = { python: process.env.P2M_PYTHON, command: process.env.P2M_PREDICT_COMMAND };
  afterEach(() => {
    for (const [key, value] of [
      ['P2M_PYTHON', saved.python],
      ['P2M_PREDICT_COMMAND', saved.command],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('loads the merged copy, or the adapter on its base model, with the generation options', () => {
    const merged = new WorkerExecutor({ model: localModel('/o/merged', { model: '/o/merged', adapter: '/o/adapter', merged: '/o/merged', tokenizer: '/o/merged' }), maxNewTokens: 16, precision: 'bf16' });
    expect(merged.predictArgs('in.jsonl', 'out.jsonl')).toEqual([
      '--model', '/o/merged', '--input', 'in.jsonl', '--output', 'out.jsonl', '--tokenizer', '/o/merged',
      '--batch-size', '8', '--max-new-tokens', '16', '--max-source-length', '512', '--precision', 'bf16', '--device', 'auto',
    ]);
    const adapterOnly = new WorkerExecutor({ model: localModel('/o/adapter', { model: '/o/adapter', adapter: '/o/adapter' }), batchSize: 0 });
    const args = adapterOnly.predictArgs('in.jsonl', 'out.jsonl');
    expect(args.slice(0, 8)).toEqual(['--model', '/o/adapter', '--input', 'in.jsonl', '--output', 'out.jsonl', '--base-model', 'google/flan-t5-small']);
    expect(args[args.indexOf('--batch-size') + 1]).toBe('1');
  });

  it('runs python -m p2m_worker.predict with $P2M_PYTHON, or $P2M_PREDICT_COMMAND, or the workerCommand option', () => {
    delete process.env.P2M_PREDICT_COMMAND;
    process.env.P2M_PYTHON = '/venv/bin/python';
    const model = localModel('/o/merged');
    expect(new WorkerExecutor({ model }).workerArgv()).toEqual(['/venv/bin/python', '-m', 'p2m_worker.predict']);
    expect(new WorkerExecutor({ model, python: '/other/python' }).workerArgv()[0]).toBe('/other/python');
    process.env.P2M_PREDICT_COMMAND = JSON.stringify(['node', 'fake.mjs']);
    expect(new WorkerExecutor({ model }).workerArgv()).toEqual(['node', 'fake.mjs']);
    expect(new WorkerExecutor({ model, workerCommand: ['x'] }).workerArgv()).toEqual(['x']);
    process.env.P2M_PREDICT_COMMAND = 'python -m p2m_worker.predict';
    expect(() => new WorkerExecutor({ model }).workerArgv()).toThrow(/P2M_PREDICT_COMMAND must be a JSON array/);
  });

  it('refuses managed models', () => {
    expect(() => new WorkerExecutor({ model: { ...localModel('ft:gpt-4o-mini:x'), kind: 'managed-model' } })).toThrow(/runs local model folders/);
  });
});

describe('workerExecutors (the python-worker entry of the executor table)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir('p2m-predict-for-')));
  afterAll(() => cleanup());

  it('runs PyTorch formats with the spec instruction, and leaves ONNX exports and managed models to the other entries', async () => {
    const pytorch = join(dir, 'merged');
    const onnxFolder = join(dir, 'exported');
    const onnxFile = join(dir, 'single');
    await mkdir(pytorch, { recursive: true });
    await writeFile(join(pytorch, 'config.json'), '{}');
    await mkdir(join(onnxFolder, 'onnx'), { recursive: true });
    await writeFile(join(onnxFolder, 'onnx', 'model.onnx'), '');
    await mkdir(onnxFile, { recursive: true });
    await writeFile(join(onnxFile, 'model.onnx'), '');
    const spec = { instruction: 'Add two.', examples: [], language: 'en' };
    await writeFile(join(pytorch, 'model.safetensors'), '');
    const table = workerExecutors({ workerCommand: [process.execPath, FAKE_PREDICT] });

    const chosen = executorForModel(localModel(pytorch, {}), spec, table);
    expect(chosen).toBeInstanceOf(WorkerExecutor);
    const { context } = await makeContext(join(dir, 'run'));
    expect((await chosen.execute(['3'], context))[0]!.output).toBe(formatTrainingPrompt('Add two.', '3'));

    // ONNX exports need the onnx entry (the evaluator's), managed models the language-model entry.
    expect(() => executorForModel(localModel(onnxFolder, {}), spec, table)).toThrow(/no `onnx` entry/);
    expect(() => executorForModel(localModel(onnxFile, {}), spec, table)).toThrow(/no `onnx` entry/);
    expect(() => executorForModel({ ...localModel('ft:x'), kind: 'managed-model' }, spec, table)).toThrow(/no `language-model` entry/);
    // With both, the ONNX export wins (no Python at inference); a missing folder has no formats and is not created.
    expect(locateTrainedModel({ ...localModel(pytorch, { merged: pytorch }), artifacts: { merged: pytorch, onnx: onnxFolder } }).formats).toEqual({ merged: pytorch, 'onnx-fp32': onnxFolder });
    expect(locateTrainedModel(localModel(join(dir, 'missing'), {})).formats).toEqual({});
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});

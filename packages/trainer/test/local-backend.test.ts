import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, BudgetExceededError, readJsonlAll, type ProgressEvent } from '@prompt2model/core/internal';
import { createTrainer, LocalBackend, parseEventLine, runWorkerProcess } from '../src/internal.js';
import { FAKE_WORKER, jobDirOf, makeContext, tempDir, toyRows, writeRows } from './helpers.js';

function backend(scenario: string, extra: Partial<ConstructorParameters<typeof LocalBackend>[0]> = {}) {
  return new LocalBackend({ workerCommand: [process.execPath, FAKE_WORKER], env: { FAKE_WORKER_SCENARIO: scenario }, cancelGraceMs: 5000, ...extra });
}

describe('worker protocol', () => {
  it('parses JSON-lines events and keeps anything else as log text', () => {
    expect(parseEventLine('{"type":"step","step":3,"loss":0.5}')).toEqual({ type: 'step', step: 3, loss: 0.5 });
    expect(parseEventLine('Loading checkpoint shards: 100%')).toEqual({ type: 'log', message: 'Loading checkpoint shards: 100%' });
    expect(parseEventLine('{"type":"step"}')).toEqual({ type: 'log', message: '{"type":"step"}' });
    expect(parseEventLine('{"type":"unknown"}')).toEqual({ type: 'log', message: '{"type":"unknown"}' });
    expect(parseEventLine('   ')).toBeUndefined();
  });

  it('turns a silent non-zero exit into an error event with the end of stderr', async () => {
    const events = [];
    for await (const event of runWorkerProcess({ command: process.execPath, args: ['-e', 'console.error("Traceback: boom"); process.exit(4)'] })) events.push(event);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'error', exitCode: 4 });
    expect((events[0] as { message: string }).message).toMatch(/exit code 4[\s\S]*Traceback: boom/);
  });

  it('after done, lets the worker finish its files, and stops one that lingers', async () => {
    const { dir: folder, cleanup } = await tempDir();
    try {
      const marker = join(folder, 'flushed');
      const finishing = `console.log(JSON.stringify({type:'done'})); setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); }, 200)`;
      for await (const event of runWorkerProcess({ command: process.execPath, args: ['-e', finishing] })) if (event.type === 'done') break;
      expect(existsSync(marker)).toBe(true);

      let pid = 0;
      const lingering = `console.log(JSON.stringify({type:'start', pid: process.pid})); console.log(JSON.stringify({type:'done'})); setInterval(() => {}, 1000)`;
      for await (const event of runWorkerProcess({ command: process.execPath, args: ['-e', lingering], exitGraceMs: 50 })) {
        if (event.type === 'start') pid = event.pid as number;
        if (event.type === 'done') break;
      }
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(alive()).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('on a cancel, passes over the worker’s own "cancelled" but reports a failure while it stopped', async () => {
    for (const [report, shown] of [
      [{ type: 'error', message: 'cancelled', cancelled: true }, undefined],
      [{ type: 'error', message: 'OSError: No space left on device' }, 'While stopping, the training worker failed: OSError: No space left on device'],
    ] as const) {
      // On SIGINT the worker reports, then exits as a stopped worker does.
      const worker = `process.on('SIGINT', () => { console.log(${JSON.stringify(JSON.stringify(report))}); process.exit(130); }); console.log(JSON.stringify({ type: 'start' })); setInterval(() => {}, 1000)`;
      const controller = new AbortController();
      const events: Array<Record<string, unknown>> = [];
      const error = await (async () => {
        for await (const event of runWorkerProcess({ command: process.execPath, args: ['-e', worker], signal: controller.signal })) {
          events.push(event);
          if (event.type === 'start') controller.abort(new Error('Ctrl-C'));
        }
      })().catch((e: unknown) => e);
      expect(AbortError.isInstance(error)).toBe(true);
      expect(events.some((event) => event.type === 'error')).toBe(false);
      const warnings = events.filter((event) => event.type === 'log').map((event) => event.message);
      expect(warnings).toEqual(shown ? [shown] : []);
    }
  });

  it('names the install command when the interpreter is missing', async () => {
    const stream = runWorkerProcess({ command: 'surely-not-a-python-3', args: [], notFoundHint: 'pip install torch' });
    const error = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/was not found/);
    expect((error as { hint?: string }).hint).toBe('pip install torch');
  });
});

describe('LocalBackend with a stand-in worker', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let train: string;
  let validation: string;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    train = await writeRows(join(dir, 'train.jsonl'), toyRows(16));
    validation = await writeRows(join(dir, 'validation.jsonl'), toyRows(4, 50));
  });
  afterAll(() => cleanup());

  const job = () => ({ baseModel: 'google/flan-t5-small', epochs: 2, batchSize: 4, instruction: 'Add one.', data: { train, validation } });

  it('trains: progress from step events, eval logs, events stored, model collected', async () => {
    const out = join(dir, 'run-ok');
    const { context, events } = await makeContext(out);
    const trainer = createTrainer({ backend: backend('success') });
    const model = await trainer.train(job() as never, context);
    expect(model.kind).toBe('local-folder');
    const jobDir = await jobDirOf(out);
    expect(jobDir).toBe(join(out, 'training', model.jobId!));
    expect(model.reference).toBe(join(jobDir, 'output/merged'));
    expect(model.artifacts.adapter).toBe(join(jobDir, 'output/adapter'));
    expect(model.metrics.steps).toBe(8);
    expect(model.metrics.estimatedCostUsd).toBe(0);
    const progress = events.filter((e): e is Extract<ProgressEvent, { type: 'progress' }> => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ stage: 'train', done: 8, total: 8 });
    expect(progress.map((p) => p.counters?.loss).filter((x) => x !== undefined)).toEqual([2, 1, 2 / 3, 0.5, 0.4, 2 / 6, 2 / 7, 0.25]);
    const logs = events.filter((e) => e.type === 'log').map((e) => (e as { message: string }).message);
    expect(logs.some((m) => m.startsWith('Estimate (local)'))).toBe(true);
    expect(logs).toContain('eval epoch 1: eval_loss=0.25');
    expect(logs).toContain('Some library banner that is not JSON');
    const stored = await readJsonlAll<{ type: string }>(join(out, 'training/events.jsonl'));
    expect(stored.map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'step', 'eval', 'checkpoint', 'done']));
    // The worker got the validated job with the T5 LoRA target modules and self-contained data paths.
    const config = JSON.parse(await readFile(join(jobDir, 'job.json'), 'utf8'));
    expect(config.job.lora.targetModules).toEqual(['q', 'k', 'v', 'o']);
    expect(config.job.data).toEqual({ train: 'data/train.jsonl', validation: 'data/validation.jsonl' });
    const handle = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8'));
    expect(handle.handle.backend).toBe('local');

    // Running again finds the finished job and does not launch the worker.
    const again = await makeContext(out);
    const second = await createTrainer({ backend: backend('crash') }).train(job() as never, again.context);
    expect(second.reference).toBe(model.reference);
  });

  it('records the measured GPU time × the hourly price in the run ledger once, not again on rerun', async () => {
    const out = join(dir, 'run-charge');
    const first = await makeContext(out);
    const model = await createTrainer({ backend: backend('success', { gpuHourlyUsd: 3600, gpus: 2 }) }).train(job() as never, first.context);
    expect(model.metrics.gpuHours).toBeGreaterThan(0);
    // $3600 an hour is $1 a GPU-second: the charge is the measured GPU-hours × price.
    expect(model.metrics.costUsd).toBeCloseTo(model.metrics.gpuHours! * 3600, 9);
    expect(first.context.ledger.totalUsd).toBeCloseTo(model.metrics.costUsd!, 9);
    expect(first.context.store.getManifest().cost?.usd).toBeCloseTo(model.metrics.costUsd!, 9);
    const handle = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8'));
    expect(handle.charged).toEqual({ jobId: model.jobId, usd: model.metrics.costUsd });
    expect(handle.watchedSeconds).toBeCloseTo(model.metrics.gpuHours! * 1800, 6);

    const again = await makeContext(out);
    const second = await createTrainer({ backend: backend('crash', { gpuHourlyUsd: 3600, gpus: 2 }) }).train(job() as never, again.context);
    expect(second.metrics.costUsd).toBe(model.metrics.costUsd);
    expect(again.context.ledger.totalUsd).toBeCloseTo(first.context.ledger.totalUsd, 12);

    // Your own GPU (no price): nothing is charged.
    const free = await makeContext(join(dir, 'run-free'));
    const unpriced = await createTrainer({ backend: backend('success') }).train(job() as never, free.context);
    expect(unpriced.metrics.costUsd).toBeUndefined();
    expect(free.context.ledger.totalUsd).toBe(0);
  });

  it('starts a new job (own folder) when the job changes, never reusing another job\'s result', async () => {
    const out = join(dir, 'run-change');
    const first = await makeContext(out);
    const one = await createTrainer({ backend: backend('success') }).train(job() as never, first.context);
    const second = await makeContext(out);
    const two = await createTrainer({ backend: backend('success') }).train({ ...job(), epochs: 3 } as never, second.context);
    expect(two.jobId).not.toBe(one.jobId);
    expect(two.metrics.steps).toBe(12);
    expect(one.metrics.steps).toBe(8);
    expect(second.events.some((e) => e.type === 'log' && /holds a different training job/.test(e.message))).toBe(true);
  });

  it('fails with the worker error message and its hint', async () => {
    const { context } = await makeContext(join(dir, 'run-fail'));
    const error = await createTrainer({ backend: backend('fail') }).train(job() as never, context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/failed: CUDA out of memory/);
    expect((error as { hint?: string }).hint).toBe('Lower the batch size.');
  });

  it('reports a crash with the traceback', async () => {
    const { context } = await makeContext(join(dir, 'run-crash'));
    await expect(createTrainer({ backend: backend('crash') }).train(job() as never, context)).rejects.toThrow(/exit code 3[\s\S]*RuntimeError: boom/);
  });

  it('turns a missing Python package into an install hint', async () => {
    const { context } = await makeContext(join(dir, 'run-deps'));
    const error = await createTrainer({ backend: backend('missing-deps') }).train(job() as never, context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/peft/);
    expect((error as { hint?: string }).hint).toBe('Install the missing packages: pip install peft');
  });

  it('estimates for the device that will train: a CPU from a measured probe, a GPU by name', async () => {
    // A stand-in interpreter answering `-m p2m_worker.probe` as the real one does (pure parts of the probe are the worker's).
    const fakePython = join(dir, 'fake-python.mjs');
    const answer = (done: object) => `#!${process.execPath}\nconst a = process.argv.slice(2);\nif (a[1] !== 'p2m_worker.probe' || !a.includes('--tokens-per-example')) process.exit(9);\nconsole.log(JSON.stringify(${JSON.stringify({ type: 'done', ...done })}));\n`;
    const { chmod, writeFile } = await import('node:fs/promises');
    const prepare = async (done: object | undefined, extra: Partial<ConstructorParameters<typeof LocalBackend>[0]> = {}) => {
      await writeFile(fakePython, done ? answer(done) : `#!${process.execPath}\nprocess.exit(3);\n`);
      await chmod(fakePython, 0o755);
      const { context } = await makeContext(join(dir, `run-probe-${Math.random().toString(36).slice(2)}`));
      return createTrainer({ backend: new LocalBackend({ python: fakePython, ...extra }) }).prepare(job() as never, context);
    };

    const cpu = await prepare({ device: 'cpu with 1 thread (2 usable cores, auto)', gpus: 0, threads: 1, measured: true, tokensPerSecond: 400 });
    expect(cpu.summary).toMatch(/on cpu with 1 thread \(2 usable cores, auto\) at ~400 tokens\/s \(measured\)/);
    expect(cpu.summary).not.toMatch(/GPU/);
    expect(cpu.estimate.pricing).toMatchObject({ kind: 'gpu-time', tokensPerSecondPerGpu: 400, measured: true, gpus: 1 });
    // 400 tokens/s instead of an assumed GPU's 5000: the estimate is over ten times longer.
    const assumedGpu = await prepare(undefined, { probe: false });
    expect(cpu.estimate.hours! - 2 / 60).toBeGreaterThan((assumedGpu.estimate.hours! - 2 / 60) * 10);

    const gpu = await prepare({ device: 'NVIDIA H100 80GB HBM3', gpus: 1, measured: false });
    expect(gpu.summary).toMatch(/on 1 × NVIDIA H100 80GB HBM3 at ~5000 tokens\/s \(assumed\) each/);

    const failed = await prepare(undefined);
    expect(failed.summary).toMatch(/note: device not probed .*assumes a GPU at 5000 tokens\/s/);
    // A custom worker or a given throughput skips the probe.
    expect((await prepare({ device: 'cpu', gpus: 0, measured: true, tokensPerSecond: 1 }, { tokensPerSecondPerGpu: 777 })).summary).toMatch(/~777 tokens\/s \(assumed\)/);
  });

  it('checks the estimate against --max-cost before launching', async () => {
    const out = join(dir, 'run-budget');
    const { context } = await makeContext(out, { maxCostUsd: 0.000001 });
    const trainer = createTrainer({ backend: backend('success', { gpuHourlyUsd: 100 }) });
    await expect(trainer.train(job() as never, context)).rejects.toSatisfy((e: unknown) => BudgetExceededError.isInstance(e));
    expect(await readdir(join(out, 'training'))).toEqual(['estimate.json']);
  });

  it('cancels cleanly on abort (the worker checkpoints) and resumes from that checkpoint on rerun', async () => {
    const out = join(dir, 'run-cancel');
    const controller = new AbortController();
    const { context, events } = await makeContext(out, { signal: controller.signal });
    context.events.on((event) => {
      if (event.type === 'progress' && event.done === 3) controller.abort(new Error('Ctrl-C'));
    });
    const longJob = { ...job(), epochs: 50 };
    const error = await createTrainer({ backend: backend('slow') }).train(longJob as never, context).catch((e: unknown) => e);
    expect(AbortError.isInstance(error)).toBe(true);
    const checkpoint = JSON.parse(await readFile(join(await jobDirOf(out), 'output/checkpoint.json'), 'utf8')) as { step: number };
    expect(checkpoint.step).toBeGreaterThanOrEqual(3);
    expect(checkpoint.step).toBeLessThan(200);
    expect(events.filter((e) => e.type === 'progress').length).toBeLessThan(200);

    const rerun = await makeContext(out);
    const model = await createTrainer({ backend: backend('success') }).train(longJob as never, rerun.context);
    expect(model.metrics.steps).toBe(200);
    const started = rerun.events.find((e) => e.type === 'progress');
    expect(started).toMatchObject({ done: checkpoint.step, total: 200 });
    expect(rerun.events.some((e) => e.type === 'log' && /Resuming training job local-/.test(e.message))).toBe(true);
  });

  it('builds accelerate/torchrun command lines for several GPUs', () => {
    expect(new LocalBackend({ launcher: 'accelerate', gpus: 4 }).workerArgv()).toEqual(['accelerate', 'launch', '--multi_gpu', '--num_processes', '4', '-m', 'p2m_worker']);
    expect(new LocalBackend({ launcher: 'accelerate' }).workerArgv()).toEqual(['accelerate', 'launch', '--num_processes', '1', '-m', 'p2m_worker']);
    expect(new LocalBackend({ launcher: 'torchrun', gpus: 2 }).workerArgv()).toEqual(['torchrun', '--standalone', '--nproc_per_node', '2', '-m', 'p2m_worker']);
    expect(new LocalBackend({ python: '/opt/venv/bin/python' }).workerArgv()).toEqual(['/opt/venv/bin/python', '-m', 'p2m_worker']);
  });
});

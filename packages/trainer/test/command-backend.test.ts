import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError } from '@prompt2model/core';
import { CommandBackend, createTrainer, shellQuote } from '../src/internal.js';
import { FAKE_WORKER, makeContext, tempDir, toyRows, writeRows } from './helpers.js';

// A "remote machine" is a folder here: sync commands copy to and from it, and the launch command
// runs the stand-in worker there, exactly as ssh/Slurm would run the real one.
describe('CommandBackend', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let train: string;
  const node = shellQuote(process.execPath);
  const worker = shellQuote(FAKE_WORKER);
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    train = await writeRows(join(dir, 'train.jsonl'), toyRows(8));
  });
  afterAll(() => cleanup());
  const job = () => ({ baseModel: 'gpt2', epochs: 1, batchSize: 2, data: { train } });

  it('syncs the job folder up, launches, streams events, syncs the output down', async () => {
    const remote = join(dir, 'remote-a');
    const backend = new CommandBackend({
      syncUp: `mkdir -p ${remote}/{jobName} && cp -R {jobDir}/. ${remote}/{jobName}`,
      launch: `cd ${remote}/{jobName} && FAKE_WORKER_SCENARIO=success ${node} ${worker} --config {config}`,
      syncDown: `cp -R ${remote}/{jobName}/output/. {jobDir}/output`,
      gpuHourlyUsd: 3,
    });
    const out = join(dir, 'run-a');
    const { context, events } = await makeContext(out);
    const model = await createTrainer({ backend }).train(job() as never, context);
    expect(model.backend).toBe('command');
    expect(model.reference).toBe(join(out, 'training', model.jobId!, 'output/merged'));
    expect(existsSync(join(out, 'training', model.jobId!, 'output/result.json'))).toBe(true);
    expect(model.metrics.steps).toBe(4);
    expect(model.metrics.estimatedCostUsd).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'progress' && e.done === 4 && e.total === 4)).toBe(true);
    const config = JSON.parse(await readFile(join(remote, model.jobId!, 'job.json'), 'utf8'));
    expect(config.job.lora.targetModules).toEqual(['c_attn', 'attn.c_proj']);
  });

  it('records the remote job id, re-attaches after a restart instead of launching again', async () => {
    const remote = join(dir, 'remote-b');
    const marker = join(dir, 'launches.txt');
    const options = {
      syncUp: `mkdir -p ${remote}/{jobName} && cp -R {jobDir}/. ${remote}/{jobName}`,
      launch: `echo launch >> ${marker}; echo "Submitted batch job 4242"; sleep 20`,
      attach: `echo attach {remoteJobId} >> ${marker}; cd ${remote}/{jobName} && FAKE_WORKER_SCENARIO=success ${node} ${worker} --config {config}`,
      syncDown: `cp -R ${remote}/{jobName}/output/. {jobDir}/output`,
      cancelGraceMs: 2000,
    };
    const out = join(dir, 'run-b');
    const controller = new AbortController();
    const first = await makeContext(out, { signal: controller.signal });
    first.context.events.on((event) => {
      if (event.type === 'log' && event.message.includes('Submitted batch job')) setTimeout(() => controller.abort(new Error('Ctrl-C')), 50);
    });
    const error = await createTrainer({ backend: new CommandBackend(options) }).train(job() as never, first.context).catch((e: unknown) => e);
    expect(AbortError.isInstance(error)).toBe(true);
    const saved = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8'));
    expect(saved.handle.remoteJobId).toBe('4242');

    const second = await makeContext(out);
    const model = await createTrainer({ backend: new CommandBackend(options) }).train(job() as never, second.context);
    expect(model.jobId).toBe('4242');
    expect((await readFile(marker, 'utf8')).trim().split('\n')).toEqual(['launch', 'attach 4242']);
  });

  it('runs the cancel command on Ctrl-C and forgets the remote id so the next run relaunches', async () => {
    const marker = join(dir, 'cancelled.txt');
    const backend = new CommandBackend({
      launch: `echo "Submitted batch job 77"; sleep 20`,
      attach: 'false',
      cancel: `echo cancelled {remoteJobId} > ${marker}`,
      cancelGraceMs: 2000,
    });
    const out = join(dir, 'run-c');
    const controller = new AbortController();
    const { context } = await makeContext(out, { signal: controller.signal });
    context.events.on((event) => {
      if (event.type === 'log' && event.message.includes('Submitted batch job')) setTimeout(() => controller.abort(new Error('Ctrl-C')), 50);
    });
    await expect(createTrainer({ backend }).train(job() as never, context)).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
    expect((await readFile(marker, 'utf8')).trim()).toBe('cancelled 77');
    const saved = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8'));
    expect(saved.handle.remoteJobId).toBeUndefined();
  });

  it('reports a failing sync command with its stderr', async () => {
    const backend = new CommandBackend({ syncUp: 'echo "rsync: connection refused" >&2; exit 12', launch: 'true' });
    const { context } = await makeContext(join(dir, 'run-d'));
    await expect(createTrainer({ backend }).train(job() as never, context)).rejects.toThrow(/sync up command failed \(exit code 12\)[\s\S]*connection refused/);
  });

  it('quotes placeholder values for the shell', () => {
    const backend = new CommandBackend({ launch: 'run {jobDir} {jobName} {remoteJobId}' });
    expect(backend.expand('run {jobDir} {jobName} {unknown}', { id: 'p2m-1', backend: 'command', dir: "/tmp/it's here" })).toBe(
      `run '/tmp/it'\\''s here' p2m-1 {unknown}`,
    );
    expect(() => new CommandBackend({ launch: ' ' })).toThrow(/launch command/);
  });
});

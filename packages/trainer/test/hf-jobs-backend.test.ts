import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, BudgetExceededError, LoadSettingError, ValidationError } from '@prompt2model/core/internal';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { createTrainer, defaultPython, HfJobsBackend, parseTrainingJob } from '../src/internal.js';
import { makeContext, tempDir } from './helpers.js';

// The Hugging Face Jobs backend through the real @huggingface/hub client against the loopback Hub,
// whose Jobs API runs each job as a local process: the job's own command (the bootstrap that fetches
// the dataset repo, then p2m_worker.hf_job) with the real worker on a tiny model, and the real
// huggingface_hub pushing the model back. Needs the training stack (P2M_PYTHON).
const python = defaultPython();
const hasStack = spawnSync(python, ['-c', 'import torch, transformers, peft, tokenizers, huggingface_hub']).status === 0;
const required = process.env.P2M_REQUIRE_REAL_STACK === '1';
const THREADS = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const TINY_MODELS = resolve(import.meta.dirname, '../python/bench/tiny_models.py');
// A fake token, joined at run time so the source holds nothing shaped like a real key.
const TOKEN = ['hf', 'loopbackJobsToken0123456789'].join('_');

describe('hf-jobs backend: preflight and quote (no job started)', () => {
  let server: HubServer;
  beforeAll(async () => {
    server = await startHubServer({ models: [], accessToken: TOKEN, jobs: { python } });
  });
  afterAll(() => server.close());

  it('a missing token names HF_TOKEN; a rejected one says so; an unknown flavor lists the Hub’s flavors', async () => {
    const missing = new HfJobsBackend({ hubUrl: server.url, env: {} });
    await expect(missing.checkReady()).rejects.toSatisfy((error: unknown) => LoadSettingError.isInstance(error) && /HF_TOKEN is not set/.test((error as Error).message));
    const rejected = new HfJobsBackend({ hubUrl: server.url, accessToken: ['hf', 'wrongToken0000000000'].join('_') });
    await expect(rejected.checkReady()).rejects.toSatisfy((error: unknown) => LoadSettingError.isInstance(error) && /rejected the token \(401\)/.test((error as Error).message));
    const flavor = new HfJobsBackend({ hubUrl: server.url, accessToken: TOKEN, flavor: 'a10g-tiny' });
    const error = await flavor.checkReady().catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/"a10g-tiny" is not a Jobs hardware flavor; the Hub offers cpu-basic, .*a10g-small/);
    // The token never shows in an error.
    expect(String(error)).not.toContain(TOKEN);
    expect(server.jobs.size).toBe(0);
    expect(server.repos.size).toBe(0);
  });

  it('before the hardware list is read, a synchronous quote uses the list price of a common flavor, and refuses an unknown one', () => {
    expect(new HfJobsBackend({ flavor: 'l4x1' }).pricing()).toMatchObject({ kind: 'gpu-time', gpuHourlyUsd: 0.8, tokensPerSecondPerGpu: 3_500, device: '1x Nvidia L4', note: expect.stringMatching(/list price/) });
    expect(() => new HfJobsBackend({ flavor: 'h100x8' }).pricing()).toThrow(/hardware list, which was not read yet/);
  });

  it('quotes the flavor’s price from the hardware list × the estimated hours, and a quote over --max-cost starts nothing', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ input: `word ${i}`, output: `WORD ${i}` })).join('\n');
      await import('node:fs/promises').then(({ writeFile }) => writeFile(join(dir, 'train.jsonl'), rows + '\n'));
      const backend = new HfJobsBackend({ hubUrl: server.url, accessToken: TOKEN, flavor: 'a100-large' });
      const pricing = await backend.measurePricing();
      // a100-large: $2.50 an hour on the list, billed per minute (41,667 micro-USD a minute).
      expect(pricing).toMatchObject({ kind: 'gpu-time', gpuHourlyUsd: 2.5, tokensPerSecondPerGpu: 12_000, gpus: 1, device: 'Nvidia A100 - large' });
      const { context } = await makeContext(join(dir, 'run'), { maxCostUsd: 0.1 });
      const trainer = createTrainer({ backend });
      const prepared = await trainer.prepare(parseTrainingJob({ baseModel: 'google/flan-t5-small', data: { train: join(dir, 'train.jsonl') } }), context);
      // ~10 min of set-up dominates a tiny job: 1/6 h × $2.50 ≈ $0.42.
      expect(prepared.estimate.usd).toBeGreaterThan(0.41);
      expect(prepared.summary).toMatch(/Nvidia A100 - large .*× \$2\.5\/h = ~\$0\.4/);
      await expect(trainer.trainPrepared(prepared, context)).rejects.toSatisfy((error: unknown) => BudgetExceededError.isInstance(error));
      expect(server.jobs.size).toBe(0);
      expect(server.repos.size).toBe(0);
    } finally {
      await cleanup();
    }
  });
});

describe.skipIf(!hasStack && !required)('hf-jobs backend: a real job (loopback Hub, real worker, tiny model)', () => {
  let server: HubServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let tiny: { model: string; instruction: string };
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const built = spawnSync(python, [TINY_MODELS, '--out', join(dir, 't5'), '--kind', 't5', '--hidden', '32', '--layers', '1', '--rows', '32'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(built.stderr);
    tiny = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
    server = await startHubServer({ models: [], accessToken: TOKEN, jobs: { python, env: THREADS } });
  }, 120_000);
  afterAll(async () => {
    await server.close();
    await cleanup();
  });
  afterEach(() => undefined);

  const job = () =>
    parseTrainingJob({
      baseModel: tiny.model,
      instruction: tiny.instruction,
      epochs: 1,
      batchSize: 8,
      precision: 'fp32',
      earlyStoppingPatience: 0,
      evalEachEpoch: false,
      data: { train: join(dir, 't5/train.jsonl') },
    });

  it('uploads the job privately, runs it, follows its log as progress, and downloads the pushed model into the job folder', async () => {
    const { context, events } = await makeContext(join(dir, 'run-full'));
    const backend = new HfJobsBackend({ hubUrl: server.url, accessToken: TOKEN, flavor: 't4-small', installRequirements: false, reconnectMs: 200 });
    const model = await createTrainer({ backend }).train(job(), context);
    expect(model.backend).toBe('hf-jobs');
    expect(existsSync(join(model.reference, 'config.json'))).toBe(true);
    expect(model.reference.startsWith(join(dir, 'run-full', 'training'))).toBe(true);
    // Steps came from the job's log lines.
    const steps = events.flatMap((event) => (event.type === 'progress' && event.stage === 'train' && event.done > 0 ? [event.done] : []));
    expect(steps.at(-1)).toBe(4);
    expect(model.metrics.billedSeconds).toBeGreaterThanOrEqual(60);
    expect(model.metrics.costUsd).toBeCloseTo((model.metrics.billedSeconds! / 3600) * 0.4, 5);

    const [created] = [...server.jobs.values()];
    expect(created!.spec.flavor).toBe('t4-small');
    expect(created!.spec.dockerImage).toMatch(/^pytorch\/pytorch:\d/);
    expect(created!.spec.secrets).toEqual({ HF_TOKEN: TOKEN });
    expect(JSON.stringify(created!.spec.environment)).not.toContain(TOKEN);
    expect(created!.logs.map((line) => line.data).join('\n')).not.toContain(TOKEN);
    const data = [...server.repos.values()].find((repo) => repo.type === 'dataset')!;
    const pushed = [...server.repos.values()].find((repo) => repo.type === 'model')!;
    expect(data.private && pushed.private).toBe(true);
    expect(JSON.parse(data.files.get('job/job.json')!.toString()).job.baseModel).toBe('./base-model');
    expect([...data.files.keys()]).toEqual(expect.arrayContaining(['job/data/train.jsonl', 'job/base-model/config.json', 'worker/p2m_worker/hf_job.py', 'worker/requirements.txt']));
    for (const content of [...data.files.values(), ...pushed.files.values()]) expect(content.includes(TOKEN)).toBe(false);
    expect([...pushed.files.keys()].some((path) => path.startsWith('checkpoint-'))).toBe(false);
  }, 180_000);

  it('Ctrl-C with "cancel" cancels the remote job, and the stored handle forgets it (a rerun starts anew)', async () => {
    const out = join(dir, 'run-cancel');
    const controller = new AbortController();
    const { context, events } = await makeContext(out, { signal: controller.signal });
    context.events.on((event) => {
      if (event.type === 'log' && /is running/.test(event.message)) controller.abort(new Error('interrupted'));
    });
    const backend = new HfJobsBackend({ hubUrl: server.url, accessToken: TOKEN, flavor: 't4-small', installRequirements: false, onInterrupt: async () => 'cancel' });
    const before = server.jobs.size;
    await expect(createTrainer({ backend }).train({ ...job(), seed: 7 }, context)).rejects.toSatisfy((error: unknown) => AbortError.isInstance(error));
    const cancelled = [...server.jobs.values()].at(-1)!;
    expect(server.jobs.size).toBe(before + 1);
    expect(cancelled.stage).toBe('CANCELED');
    expect(events.some((event) => event.type === 'log' && /Cancelled Hugging Face job/.test(event.message))).toBe(true);
    const { readFile } = await import('node:fs/promises');
    const saved = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8')) as { handle: Record<string, unknown> };
    expect(saved.handle.remoteJobId).toBeUndefined();
  }, 120_000);
});

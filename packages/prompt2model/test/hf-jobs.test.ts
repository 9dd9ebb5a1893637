import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, type TrainedModel } from '@prompt2model/core/internal';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { defaultPython, WorkerExecutor } from '@prompt2model/trainer/internal';
import { spawnCli } from './support/spawn-cli.js';

// `prompt2model train --backend hf-jobs` in fresh CLI processes, against the loopback Hub (the real
// @huggingface/hub client in the CLI, the real huggingface_hub in the job), whose Jobs API runs each
// job as a local process: the job's bootstrap, the real worker on a tiny T5, and the push back.
const python = defaultPython();
const hasStack = spawnSync(python, ['-c', 'import torch, transformers, peft, tokenizers, huggingface_hub'], { stdio: 'ignore' }).status === 0;
const required = process.env.P2M_REQUIRE_REAL_STACK === '1';
const TINY_MODELS = resolve(import.meta.dirname, '../../trainer/python/bench/tiny_models.py');
const THREADS = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
// A fake token, joined at run time so the source holds nothing shaped like a real key.
const TOKEN = ['hf', 'loopbackCliJobsToken0123456789'].join('_');

describe.skipIf(!hasStack && !required)('train --backend hf-jobs (loopback Hub, real worker)', () => {
  let server: HubServer;
  let dir: string;
  let tiny: { model: string; instruction: string };
  let env: NodeJS.ProcessEnv;
  const flags = (out: string, extra: string[] = []) => [
    'train', '--backend', 'hf-jobs', '--flavor', 't4-small', '--no-install-requirements',
    '--data', join(dir, 't5'), '--base-model', tiny.model, '--instruction', tiny.instruction,
    '--epochs', '1', '--batch-size', '8', '--precision', 'fp32', '--early-stopping', '0', '--no-eval',
    '--out', join(dir, out), ...extra,
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2m-hf-jobs-'));
    const built = spawnSync(python, [TINY_MODELS, '--out', join(dir, 't5'), '--kind', 't5', '--hidden', '32', '--layers', '1', '--rows', '32', '--task', 'uppercase'], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(built.stderr);
    tiny = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
    server = await startHubServer({ models: [], accessToken: TOKEN, jobs: { python, env: THREADS } });
    env = { ...THREADS, HF_TOKEN: TOKEN, HF_ENDPOINT: server.url, P2M_PYTHON: python };
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses before any upload: a bad flavor and a missing token (exit 2), a quote over --max-cost', async () => {
    const flavor = await spawnCli([...flags('bad-flavor'), '--flavor', 'a10g-tiny'], { env });
    expect(flavor.code, flavor.stderr).toBe(2);
    expect(flavor.stderr).toMatch(/"a10g-tiny" is not a Jobs hardware flavor; the Hub offers .*t4-small/);

    const token = await spawnCli(flags('no-token'), { env: { ...env, HF_TOKEN: '' } });
    expect(token.code, token.stderr).toBe(2);
    expect(token.stderr).toMatch(/HF_TOKEN is not set/);

    const quote = await spawnCli([...flags('quote'), '--estimate-only', '--max-cost', '0.01'], { env });
    // The quote is printed, and a quote over the cap refuses (exit 2), as for every backend.
    expect(quote.code, quote.stderr).toBe(2);
    // t4-small: $0.40 an hour from the hardware list; ~10 min of set-up → ~$0.07, over the $0.01 cap.
    expect(quote.stdout).toMatch(/Nvidia T4 - small .*× \$0\.4\/h = ~\$0\.07/);
    expect(quote.stderr).toMatch(/the quote \(\$0\.07\) is over --max-cost/);
    const capped = await spawnCli([...flags('capped'), '--max-cost', '0.01'], { env });
    expect(capped.code, capped.stderr).toBe(3);
    expect(capped.stderr).toMatch(/\$0\.07/);

    expect(server.jobs.size).toBe(0);
    expect(server.repos.size).toBe(0);
    for (const result of [flavor, token, quote, capped]) expect(result.stdout + result.stderr).not.toContain(TOKEN);
  }, 120_000);

  it('trains on the "job"; a rerun after the CLI was killed re-attaches instead of starting a second one, downloads the model into the run folder, and it predicts', async () => {
    const before = server.jobs.size;
    // The ONNX export after training is the local backend's own step (real-worker.test.ts); left out here to keep this test short.
    const killed = await spawnCli([...flags('full'), '--no-export'], { env, interruptWhen: /Hugging Face job \w+ is running/, interruptSignal: 'SIGKILL', timeoutMs: 120_000 });
    expect(killed.signal).toBe('SIGKILL');
    expect(server.jobs.size).toBe(before + 1);
    const job = [...server.jobs.values()].at(-1)!;
    expect(job.stage).toBe('RUNNING');

    const result = await spawnCli([...flags('full'), '--no-export', '--json'], { env, timeoutMs: 240_000 });
    expect(result.code, result.stderr).toBe(0);
    // --json keeps stderr quiet; the server's job count shows the rerun created none.
    expect(server.jobs.size).toBe(before + 1);
    expect(job.stage).toBe('COMPLETED');
    expect(result.stdout + result.stderr + killed.stderr).not.toContain(TOKEN);
    const model = JSON.parse(result.stdout) as TrainedModel;
    expect(model.backend).toBe('hf-jobs');
    expect(model.reference.startsWith(join(dir, 'full', 'training'))).toBe(true);
    expect(existsSync(join(model.reference, 'model.safetensors'))).toBe(true);
    expect(existsSync(join(model.artifacts.adapter!, 'adapter_config.json'))).toBe(true);
    // Charged what the Hub bills for the whole job (whole minutes at $0.40 an hour), though this CLI watched only part of it.
    expect(model.metrics.billedSeconds).toBeGreaterThanOrEqual(60);
    expect(model.metrics.costUsd).toBeCloseTo((model.metrics.billedSeconds! / 3600) * 0.4, 6);
    expect(await readFile(join(dir, 'full', 'training', 'handle.json'), 'utf8')).not.toContain(TOKEN);

    const context = await createStageContext({ outDir: join(dir, 'predict'), cacheDir: false });
    const executor = new WorkerExecutor({ model, instruction: tiny.instruction, python, env: THREADS, batchSize: 2, maxNewTokens: 8 });
    const predictions = await executor.execute(['hello world', 'good day'], context);
    expect(predictions).toHaveLength(2);
    expect(predictions.every((prediction) => typeof prediction.output === 'string')).toBe(true);
  }, 300_000);

  it('Ctrl-C leaves the job running and says how to cancel it; with --cancel-remote it cancels the job', async () => {
    const left = await spawnCli(flags('ctrl-c', ['--seed', '12', '--no-export']), { env, interruptWhen: /Hugging Face job \w+ is running/, timeoutMs: 120_000 });
    expect(left.code, left.stderr).toBe(130);
    const running = [...server.jobs.values()].at(-1)!;
    expect(left.stderr).toMatch(new RegExp(`job ${running.id} keeps running .*hf jobs cancel ${running.id}`));
    expect(running.stage).toBe('RUNNING');

    const cancelled = await spawnCli(flags('ctrl-c', ['--seed', '12', '--no-export', '--cancel-remote']), { env, interruptWhen: /Re-attaching to Hugging Face job/, interruptDelayMs: 500, timeoutMs: 120_000 });
    expect(cancelled.code, cancelled.stderr).toBe(130);
    expect(cancelled.stderr).toMatch(new RegExp(`Cancelled Hugging Face job ${running.id}`));
    expect(running.stage).toBe('CANCELED');
  }, 300_000);
});

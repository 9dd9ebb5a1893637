import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, type TrainedModel } from '@prompt2model/core/internal';
import { defaultPython, WorkerExecutor } from '@prompt2model/trainer/internal';
import { spawnCli } from './support/spawn-cli.js';

// `train --backend skypilot` in a fresh CLI process against a stand-in `sky` (and `aws`) on PATH
// (packages/testing/stand-ins): the stand-in runs the managed job's real setup/run on this machine,
// so the real worker trains the tiny model under torchrun, its log lines come back through
// `sky jobs logs`, and the model comes back through the "bucket" with `aws s3 sync`.
const STAND_INS = resolve(import.meta.dirname, '../../testing/stand-ins');
const TINY_MODELS = resolve(import.meta.dirname, '../../trainer/python/bench/tiny_models.py');
const python = defaultPython();
const hasStack = spawnSync(python, ['-c', 'import torch, transformers, peft, tokenizers'], { stdio: 'ignore' }).status === 0;
const required = process.env.P2M_REQUIRE_REAL_STACK === '1';
const THREADS = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

let dir: string;
let bin: string;
let state: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-sky-'));
  bin = join(dir, 'bin');
  state = join(dir, 'sky-state');
  await mkdir(bin);
  await symlink(join(STAND_INS, 'sky.mjs'), join(bin, 'sky'));
  await symlink(join(STAND_INS, 'aws.mjs'), join(bin, 'aws'));
  env = { ...THREADS, P2M_PYTHON: python, SKY_STANDIN_HOME: state, PATH: [bin, dirname(python), process.env.PATH].join(':') };
  // A small data folder for the quotes (no model needed: nothing is trained).
  const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ input: `word ${i}`, output: `WORD ${i}` })).join('\n');
  await mkdir(join(dir, 'quote-data'));
  await writeFile(join(dir, 'quote-data/train.jsonl'), `${rows}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const quoteArgs = () => ['train', '--backend', 'skypilot', '--bucket', 's3://p2m-test/runs', '--base-model', 'hf:google/flan-t5-small', '--data', join(dir, 'quote-data'), '--instruction', 'Uppercase.', '--estimate-only'];

describe('train --backend skypilot: preflight and quote', () => {
  it('without `sky` on PATH: one line naming the install command, exit 2', async () => {
    const result = await spawnCli([...quoteArgs(), '--out', join(dir, 'no-sky')], { env: { ...env, PATH: '/usr/bin:/bin' } });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n').filter((line) => line.startsWith('error:') || line.startsWith('hint:'));
    expect(lines).toEqual([expect.stringContaining('pip install "skypilot[aws]"')]);
  });

  it("quotes with SkyPilot's dry-run price (2 nodes × A10G), and a quote over --max-cost refuses with exit 2", async () => {
    const within = await spawnCli([...quoteArgs(), '--accelerators', 'A10G:1', '--nodes', '2', '--out', join(dir, 'quote'), '--json'], { env });
    expect(within.code, within.stderr).toBe(0);
    const { estimate } = JSON.parse(within.stdout) as { estimate: { usd: number; gpuHours: number; pricing: { gpuHourlyUsd: number; gpus: number; device: string } } };
    // The stand-in's optimizer table says $2.01/h (rounded to the cent, as SkyPilot prints it) for the two g5.xlarge nodes.
    expect(estimate.pricing.gpus).toBe(2);
    expect(estimate.pricing.gpuHourlyUsd).toBeCloseTo(1.005, 6);
    expect(estimate.pricing.device).toContain('A10G (2 nodes on AWS (us-east-1), g5.xlarge');
    expect(estimate.usd).toBeCloseTo(estimate.gpuHours * 1.005, 6);

    const over = await spawnCli([...quoteArgs(), '--accelerators', 'A10G:1', '--nodes', '2', '--max-cost', '0.05', '--out', join(dir, 'quote-over')], { env });
    expect(over.code, over.stderr).toBe(2);
    expect(over.stdout).toContain('OVER');
    expect(over.stderr).toMatch(/over --max-cost.*training would not start/);
    expect(existsSync(join(state, 'launches.log'))).toBe(false);
  });

  it('a GPU SkyPilot has no resources for: the dry run fails with its own reason, exit 2', async () => {
    const result = await spawnCli([...quoteArgs(), '--accelerators', 'A999:1', '--out', join(dir, 'quote-bad')], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/A999/);
  });
});

describe.skipIf(!hasStack && !required)('train --backend skypilot: the real worker under the stand-in managed job', () => {
  let tiny: { model: string; instruction: string };
  const trainArgs = (out: string, epochs: string) => [
    'train', '--backend', 'skypilot', '--bucket', 's3://p2m-test/runs', '--sky-setup', '', '--base-model', tiny.model, '--data', dirname(tiny.model),
    '--instruction', tiny.instruction, '--precision', 'fp32', '--early-stopping', '0', '--batch-size', '16', '--epochs', epochs, '--no-export', '--out', out,
  ];
  const launches = async () => (existsSync(join(state, 'launches.log')) ? (await readFile(join(state, 'launches.log'), 'utf8')).trim().split('\n') : []);
  const jobStatus = async (id: string) => (JSON.parse(await readFile(join(state, 'jobs', id, 'job.json'), 'utf8')) as { status: string }).status;

  beforeAll(() => {
    const built = spawnSync(python, [TINY_MODELS, '--out', join(dir, 'tiny'), '--kind', 't5', '--hidden', '32', '--layers', '1', '--rows', '32', '--task', 'uppercase'], { encoding: 'utf8', env: { ...process.env, ...THREADS } });
    if (built.status !== 0) throw new Error(built.stderr);
    tiny = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
  }, 120_000);

  it('kill -9 of the CLI leaves the managed job running; the rerun re-attaches (one launch), downloads the model, and it predicts', async () => {
    const out = join(dir, 'run');
    const before = (await launches()).length;
    const first = await spawnCli(trainArgs(out, '2'), { env, interruptWhen: /\[train\] 1\/\d+/, interruptSignal: 'SIGKILL', timeoutMs: 240_000 });
    expect(first.signal ?? first.code).toBeTruthy();
    const handle = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8')) as { handle: { remoteJobId: string } };
    const jobId = handle.handle.remoteJobId;
    expect(jobId).toMatch(/^\d+$/);
    expect(await jobStatus(jobId)).toMatch(/RUNNING|SUCCEEDED/);

    const second = await spawnCli([...trainArgs(out, '2'), '--json'], { env, timeoutMs: 240_000 });
    expect(second.code, second.stderr).toBe(0);
    // Both runs followed the same managed job, launched once.
    expect((await launches()).length).toBe(before + 1);
    const followed = (await readFile(join(out, 'training/events.jsonl'), 'utf8')).split('\n').filter((line) => line.includes('Following SkyPilot managed job'));
    expect(followed.map((line) => (JSON.parse(line) as { remoteJobId: string }).remoteJobId)).toEqual([jobId, jobId]);
    const model = JSON.parse(second.stdout) as TrainedModel;
    expect(model.backend).toBe('skypilot');
    expect(model.jobId).toBe(jobId);
    expect(model.metrics.costUsd).toBeGreaterThan(0);
    // The model came back from the bucket into the run folder (checkpoints stayed there).
    expect(model.reference.startsWith(resolve(out))).toBe(true);
    const output = dirname(model.reference);
    expect((await readdir(output)).filter((name) => name.startsWith('checkpoint-'))).toEqual([]);
    const executor = new WorkerExecutor({ model, instruction: tiny.instruction, python, env: THREADS, batchSize: 4, maxNewTokens: 8 });
    const context = await createStageContext({ outDir: join(dir, 'predict'), cacheDir: false });
    const predictions = await executor.execute(['alpha beta', 'gamma'], context);
    expect(predictions).toHaveLength(2);
    for (const prediction of predictions) expect(typeof prediction.output).toBe('string');
  }, 300_000);

  it('Ctrl-C with --cancel-remote cancels the managed job (`sky jobs cancel`), exit 130, and the handle forgets it so a rerun launches anew', async () => {
    const out = join(dir, 'run-cancel');
    const before = (await launches()).length;
    const result = await spawnCli([...trainArgs(out, '3'), '--cancel-remote'], { env, interruptWhen: /Following SkyPilot managed job/, interruptDelayMs: 1500, timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/Cancelled SkyPilot managed job \d+/);
    const launched = await launches();
    expect(launched.length).toBe(before + 1);
    const jobId = launched.at(-1)!.split(' ')[0]!;
    expect(await jobStatus(jobId)).toBe('CANCELLED');
    const handle = JSON.parse(await readFile(join(out, 'training/handle.json'), 'utf8')) as { handle: { remoteJobId?: string } };
    expect(handle.handle.remoteJobId).toBeUndefined();
  }, 180_000);
});

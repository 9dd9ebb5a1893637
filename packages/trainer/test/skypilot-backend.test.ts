import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, type TrainingEvent } from '@prompt2model/core/internal';
import { parseTrainingJob, SkyPilotBackend } from '@prompt2model/trainer';

// The backend's life cycle against the stand-in `sky` (packages/testing/stand-ins/sky.mjs), with
// jobs that never reach the worker: held PENDING (as while SkyPilot waits for resources), or failing
// in setup. The real worker under the stand-in is tested through the CLI (packages/prompt2model).
const STAND_INS = resolve(import.meta.dirname, '../../testing/stand-ins');

let dir: string;
let state: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-sky-backend-'));
  state = join(dir, 'sky-state');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await symlink(join(STAND_INS, 'sky.mjs'), join(bin, 'sky'));
  await symlink(join(STAND_INS, 'aws.mjs'), join(bin, 'aws'));
  env = { SKY_STANDIN_HOME: state, PATH: `${bin}:${process.env.PATH}` };
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data/train.jsonl'), `${Array.from({ length: 12 }, (_, i) => JSON.stringify({ input: `w${i}`, output: `W${i}` })).join('\n')}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const job = () => parseTrainingJob({ baseModel: 'hf:google/flan-t5-small', method: 'lora', instruction: 'Uppercase.', data: { train: join(dir, 'data/train.jsonl') } });
const launches = async () => (existsSync(join(state, 'launches.log')) ? (await readFile(join(state, 'launches.log'), 'utf8')).trim().split('\n') : []);
const status = async (id: string) => (JSON.parse(await readFile(join(state, 'jobs', id, 'job.json'), 'utf8')) as { status: string }).status;

describe('SkyPilotBackend against a stand-in sky', () => {
  it('never launches a job twice: a run that lost the id adopts the job by name; a cancelled job is launched anew', async () => {
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'hold'), '');
    try {
      const backend = new SkyPilotBackend({ bucket: 's3://p2m-test/backend', sky: 'sky', env });
      const context = await createStageContext({ outDir: join(dir, 'run'), cacheDir: false });
      const first = await backend.submit(job(), context);
      expect(first.remoteJobId).toMatch(/^\d+$/);
      expect(await status(first.remoteJobId as string)).toBe('PENDING');
      // The task is in the job folder; its output lives in the job's bucket folder for this machine shape.
      expect(await readFile(join(first.dir!, 'skypilot-task.yaml'), 'utf8')).toContain(`source: s3://p2m-test/backend/${first.id}/1xcpu`);
      expect(first.bucket).toBe(`s3://p2m-test/backend/${first.id}/1xcpu`);
      // The handle was never saved (the CLI died right after the launch): the same job, submitted again, adopts it.
      const again = await backend.submit(job(), context);
      expect(again.remoteJobId).toBe(first.remoteJobId);
      // Re-attaching with the handle launches nothing either.
      expect((await backend.submit(job(), context, first)).remoteJobId).toBe(first.remoteJobId);
      expect(await launches()).toHaveLength(1);

      await backend.cancel(first);
      expect(await status(first.remoteJobId as string)).toBe('CANCELLED');
      const relaunched = await backend.submit(job(), context, first);
      expect(relaunched.remoteJobId).not.toBe(first.remoteJobId);
      expect(relaunched.id).toBe(first.id);
      expect(await launches()).toHaveLength(2);
      await backend.cancel(relaunched);
    } finally {
      await rm(join(state, 'hold'), { force: true });
    }
  }, 60_000);

  it('a setup that fails ends the watch with FAILED_SETUP and a hint that says where to look', async () => {
    const backend = new SkyPilotBackend({ bucket: 's3://p2m-test/backend', sky: 'sky', env, setup: 'echo installing; exit 3', pollIntervalMs: 200 });
    const context = await createStageContext({ outDir: join(dir, 'run-setup'), cacheDir: false });
    const handle = await backend.submit(job(), context);
    const events: TrainingEvent[] = [];
    for await (const event of backend.watch(handle, context)) events.push(event);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: 'error', message: `SkyPilot managed job ${String(handle.remoteJobId)} ended FAILED_SETUP` });
    expect(String(last.hint)).toContain('setup');
    // The setup's own output came through the log, without SkyPilot's prefix.
    expect(events.some((event) => event.type === 'log' && event.message === 'installing')).toBe(true);
  }, 60_000);

  it('no cloud enabled: checkReady says so although `sky check` exits 0', async () => {
    const backend = new SkyPilotBackend({ bucket: 's3://p2m-test/backend', sky: 'sky', env: { ...env, SKY_STANDIN_CLOUDS: '' } });
    await expect(backend.checkReady()).rejects.toThrow(/no cloud is enabled/);
    const gcp = new SkyPilotBackend({ bucket: 's3://p2m-test/backend', sky: 'sky', env, infra: 'gcp/us-central1' });
    await expect(gcp.checkReady()).rejects.toThrow(/GCP: disabled/);
    await new SkyPilotBackend({ bucket: 's3://p2m-test/backend', sky: 'sky', env, infra: 'aws' }).checkReady();
  }, 30_000);
});

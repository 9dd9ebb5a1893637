// Children stop when their parent dies (issue 19): kill -9 of the CLI while its training worker runs
// leaves no worker behind within 5 s. From the CLI, in a fresh process.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './support/spawn-cli.js';

const CLI = resolve(import.meta.dirname, '../src/cli.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-kill-'));
  await writeFile(join(dir, 'train.jsonl'), Array.from({ length: 12 }, (_, i) => JSON.stringify({ input: `review ${i}`, output: i % 2 ? 'positive' : 'negative' })).join('\n') + '\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kill -9 of the CLI', () => {
  it('stops the training worker it started within 5 s (and meanwhile a second process is kept out of the run folder)', async () => {
    const pidFile = join(dir, 'worker.pid');
    // A worker that records its pid and then runs until stopped (a long training).
    const worker = [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`, '--'];
    const cli = spawn(process.execPath, ['--import', 'tsx', CLI, 'train', '--data', dir, '--base-model', 'acme/t5-small', '--no-export', '--out', join(dir, 'run')], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, P2M_WORKER_COMMAND: JSON.stringify(worker), P2M_CACHE_DIR: join(dir, 'cache') },
    });
    try {
      await expect.poll(() => existsSync(pidFile), { timeout: 30_000, interval: 100 }).toBe(true);
      const workerPid = Number(await readFile(pidFile, 'utf8'));
      expect(alive(workerPid)).toBe(true);
      // A second process on the same run folder is kept out, with the holder's pid.
      const second = await spawnCli(['train', '--data', dir, '--base-model', 'acme/t5-small', '--no-export', '--out', join(dir, 'run')], { env: { P2M_CACHE_DIR: join(dir, 'cache') } });
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`is in use by another prompt2model process (pid ${cli.pid}`);
      cli.kill('SIGKILL');
      const killedAt = Date.now();
      await expect.poll(() => alive(workerPid), { timeout: 5000, interval: 100 }).toBe(false);
      expect(Date.now() - killedAt).toBeLessThan(5000);
      // The dead holder's lock is stale: the next run takes the folder over (and resumes).
      const after = await spawnCli(['train', '--data', dir, '--base-model', 'acme/t5-small', '--no-export', '--out', join(dir, 'run'), '--estimate-only'], { env: { P2M_CACHE_DIR: join(dir, 'cache') } });
      expect(after.stderr).not.toMatch(/in use/);
      expect(after.code).toBe(0);
    } finally {
      cli.kill('SIGKILL');
    }
  }, 60_000);
});

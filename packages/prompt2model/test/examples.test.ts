import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const EXAMPLE = resolve(import.meta.dirname, '../../../examples/offline/offline-run.ts');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('examples/offline/offline-run.ts', () => {
  it('runs the whole pipeline offline (loopback teacher, local index) and writes the report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-offline-example-'));
    dirs.push(dir);
    const out = join(dir, 'run');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE, out], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: dir } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', fail);
      child.on('close', (exit) => done({ code: exit, stdout, stderr }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/generated 40 examples; best base model example\/t5-small-review-sentiment; report .*report\.html/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.task.taskType).toBe('classification');
    expect(report.data.generated).toBe(40);
    expect(report.model.chosen).toBe('example/t5-small-review-sentiment');
  }, 60_000);
});

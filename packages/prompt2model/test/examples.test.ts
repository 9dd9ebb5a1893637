import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './support/run-script.js';

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
    const { code, stdout, stderr } = await runScript(EXAMPLE, { args: [out], env: { PATH: process.env.PATH, HOME: dir } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/generated 40 examples; best base model example\/t5-small-review-sentiment; report .*report\.html/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.task.taskType).toBe('classification');
    expect(report.data.generated).toBe(40);
    expect(report.model.chosen).toBe('example/t5-small-review-sentiment');
  }, 60_000);
});

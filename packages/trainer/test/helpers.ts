import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { createStageContext, type ProgressEvent, type RequestSchedulerOptions, type StageContext } from '@prompt2model/core';

export const FAKE_WORKER = resolve(import.meta.dirname, 'fixtures/fake-worker.mjs');

export async function tempDir(prefix = 'p2m-trainer-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeRows(path: string, rows: unknown[]): Promise<string> {
  await writeFile(path, rows.map((row) => (typeof row === 'string' ? row : JSON.stringify(row))).join('\n') + '\n');
  return path;
}

export function toyRows(count: number, offset = 0): Array<{ input: string; output: string }> {
  return Array.from({ length: count }, (_, i) => ({ input: `What is ${i + offset} plus one?`, output: String(i + offset + 1) }));
}

export async function makeContext(
  outDir: string,
  options: { maxCostUsd?: number; signal?: AbortSignal; scheduler?: RequestSchedulerOptions } = {},
): Promise<{ context: StageContext; events: ProgressEvent[] }> {
  const context = await createStageContext({ outDir, cacheDir: false, ...options });
  const events: ProgressEvent[] = [];
  context.events.on((event) => events.push(event));
  return { context, events };
}

/** The job folder the trainer recorded in the run folder's training/handle.json. */
export async function jobDirOf(outDir: string): Promise<string> {
  const saved = JSON.parse(await readFile(join(outDir, 'training/handle.json'), 'utf8')) as { handle: { dir: string } };
  // Recorded relative to the run folder, so a moved folder resumes its own job.
  expect(isAbsolute(saved.handle.dir)).toBe(false);
  return resolve(outDir, saved.handle.dir);
}

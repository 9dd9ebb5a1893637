import { existsSync } from 'node:fs';
import { cp, mkdtemp, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './support/spawn-cli.js';

// The run folder records paths relative to itself: a moved or copied folder resumes in place,
// never in the folder it came from. Each command runs in a fresh process, as a user runs them.
const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');
const worker = { P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]) };

let dir: string;
const rows = Array.from({ length: 12 }, (_, i) => JSON.stringify({ input: `${i} plus one`, output: String(i + 1) })).join('\n') + '\n';
// One step an epoch (batch 12 of 12 rows): the worker checkpoints step 1, and `crash` dies at step 2.
const train = (folder: string) => ['train', '--data', folder, '--base-model', 'gpt2', '--epochs', '3', '--batch-size', '12', '--no-export'];

/** A run folder whose training stopped half-way (a crash after the step-1 checkpoint). */
async function halfTrained(name: string): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'train.jsonl'), rows);
  await writeFile(join(folder, 'prompt-spec.json'), JSON.stringify({ instruction: 'Add one.', examples: [], language: 'en' }));
  const crashed = await spawnCli(train(folder), { env: { ...worker, FAKE_WORKER_SCENARIO: 'crash', P2M_CACHE_DIR: join(dir, 'cache') }, timeoutMs: 60_000 });
  expect(crashed.code).not.toBe(0);
  const handle = JSON.parse(await readFile(join(folder, 'training', 'handle.json'), 'utf8')) as { handle: { dir: string } };
  // Recorded relative to the run folder.
  expect(handle.handle.dir).toMatch(/^training\/local-[0-9a-f]{12}$/);
  expect(existsSync(join(folder, handle.handle.dir, 'output', 'checkpoint.json'))).toBe(true);
  return folder;
}

async function resume(folder: string) {
  const result = await spawnCli([...train(folder), '--json'], { env: { ...worker, P2M_CACHE_DIR: join(dir, 'cache') }, timeoutMs: 60_000 });
  expect(result.stderr).not.toMatch(/different training job/);
  expect(result.code, result.stderr).toBe(0);
  return { ...result, model: JSON.parse(result.stdout) as { reference: string } };
}

/** The start events the worker emitted into the run folder's training log. */
async function starts(folder: string): Promise<Array<{ resumedFromStep?: number }>> {
  const text = await readFile(join(folder, 'training', 'events.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; resumedFromStep?: number })
    .filter((event) => event.type === 'start');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-moved-run-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a moved or copied run folder resumes in place', () => {
  it('moved half-way through training: resumes its own checkpoint in the new place, the old place stays gone', async () => {
    const original = await halfTrained('original');
    const moved = join(dir, 'moved');
    await rename(original, moved);

    const { model } = await resume(moved);
    expect(existsSync(original)).toBe(false);
    expect(model.reference.startsWith(`${moved}/training/`)).toBe(true);
    // The worker went on from the step-1 checkpoint, not from scratch.
    expect((await starts(moved)).at(-1)?.resumedFromStep).toBe(1);
    // trained-model.json records the model relative to the run folder.
    const stored = JSON.parse(await readFile(join(moved, 'trained-model.json'), 'utf8')) as { reference: string; artifacts: Record<string, string> };
    expect(stored.reference).toMatch(/^training\/local-[0-9a-f]{12}\/output\/merged$/);
    expect(Object.values(stored.artifacts).every((path) => !path.startsWith('/'))).toBe(true);

    // Moved again after training: the finished model is found where the folder now is, nothing retrains.
    const again = join(dir, 'again');
    await rename(moved, again);
    const reused = await resume(again);
    expect(reused.model.reference.startsWith(`${again}/training/`)).toBe(true);
    expect(existsSync(moved)).toBe(false);
  }, 180_000);

  it('copied half-way: the original and the copy each finish their own job', async () => {
    const original = await halfTrained('source');
    const copy = join(dir, 'copy');
    await cp(original, copy, { recursive: true });

    const fromCopy = await resume(copy);
    expect(fromCopy.model.reference.startsWith(`${copy}/training/`)).toBe(true);
    // The copy's run left the original's job as it was: unfinished, no result.
    const [job] = (await readdir(join(original, 'training'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(existsSync(join(original, 'training', job!, 'output', 'result.json'))).toBe(false);
    expect(existsSync(join(original, 'trained-model.json'))).toBe(false);

    const fromOriginal = await resume(original);
    expect(fromOriginal.model.reference.startsWith(`${original}/training/`)).toBe(true);
    expect((await starts(original)).at(-1)?.resumedFromStep).toBe(1);
    expect(existsSync(join(copy, 'training', job!, 'output', 'result.json'))).toBe(true);
  }, 180_000);
});

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, ValidationError } from '@prompt2model/core';
import { openTrainingData } from '../src/index.js';

let dir: string;
const rows = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ input: `input ${i}`, output: `output ${i}` })).join('\n') + '\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-data-folder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openTrainingData', () => {
  it('uses train.jsonl, and validation.jsonl only when it has rows', async () => {
    const folder = join(dir, 'splits');
    await mkdir(folder);
    await writeFile(join(folder, 'train.jsonl'), rows(5));
    await writeFile(join(folder, 'validation.jsonl'), '\n');
    const data = await openTrainingData(folder);
    expect(data.instruction).toBeUndefined();
    const context = await createStageContext({ outDir: join(dir, 'splits-run'), cacheDir: false });
    expect(await data.files(context)).toEqual({ train: join(folder, 'train.jsonl') });
  });

  it("splits a dataset generation's dataset.jsonl once, by input, into the run folder, with its instruction", async () => {
    const folder = join(dir, 'generated');
    await mkdir(folder);
    await writeFile(join(folder, 'dataset.jsonl'), rows(200));
    await writeFile(join(folder, 'prompt-spec.json'), JSON.stringify({ instruction: 'Echo the number.', examples: [], language: 'en' }));
    const data = await openTrainingData(folder);
    expect(data.instruction).toBe('Echo the number.');
    const out = join(dir, 'generated-run');
    const context = await createStageContext({ outDir: out, cacheDir: false });
    const files = await data.files(context);
    expect(files).toEqual({ train: join(out, 'train.jsonl'), validation: join(out, 'validation.jsonl') });
    const count = async (name: string) => (await readFile(join(out, name), 'utf8')).trim().split('\n').length;
    const [train, validation, test] = [await count('train.jsonl'), await count('validation.jsonl'), await count('test.jsonl')];
    expect(train + validation + test).toBe(200);
    expect(test).toBeGreaterThan(0);
    expect(context.store.isDone('split')).toBe(true);
    // A rerun finds the split done and leaves the files as they are.
    await writeFile(join(folder, 'dataset.jsonl'), rows(200) + rows(1));
    const again = await createStageContext({ outDir: out, cacheDir: false });
    await data.files(again);
    expect(await count('train.jsonl')).toBe(train);
  });

  it('rejects a folder with neither file before writing anything', async () => {
    const missing = join(dir, 'nothing-here');
    const error = await openTrainingData(missing).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).message).toMatch(/No train\.jsonl \(or dataset\.jsonl\)/);
    expect(existsSync(missing)).toBe(false);
  });
});

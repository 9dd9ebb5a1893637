import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, readJsonlAll, splitDatasetFiles, splitExamples, type Example } from '../src/internal.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function jsonl(dir: string, name: string, rows: Example[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return path;
}

describe('splitDatasetFiles', () => {
  it('streams generated and retrieved data into splits that agree with core splitExamples', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-splits-'));
    dirs.push(dir);
    const generated = Array.from({ length: 300 }, (_, i) => ({ input: `generated input ${i}`, output: String(i % 2) }));
    const retrieved = [
      ...Array.from({ length: 100 }, (_, i) => ({ input: `retrieved input ${i}`, output: 'r' })),
      { input: ' Generated   INPUT 5 ', output: 'dup' },
    ];
    const result = await splitDatasetFiles({
      sources: [
        { path: await jsonl(dir, 'dataset.jsonl', generated), source: 'generated' },
        { path: await jsonl(dir, 'retrieved.jsonl', retrieved), source: 'retrieved', maxExamples: 80 },
      ],
      outDir: join(dir, 'out'),
      validation: 0.1,
      test: 0.2,
      seed: 1,
    });
    expect(result.duplicates).toBe(0);
    const total = result.counts.train + result.counts.validation + result.counts.test;
    expect(total).toBe(380);
    const train = await readJsonlAll<Example>(join(dir, 'out', result.train));
    const test = await readJsonlAll<Example>(join(dir, 'out', result.test!));
    expect(train.length).toBe(result.counts.train);
    expect(test.every((row) => row.meta?.source === 'generated' || row.meta?.source === 'retrieved')).toBe(true);
    const expected = splitExamples([...generated, ...retrieved.slice(0, 80)], { validation: 0.1, test: 0.2, seed: 1 });
    expect(test.map((row) => row.input)).toEqual(expected.test.map((row) => row.input));
    expect(test.length).toBeGreaterThan(40);
  });

  it('drops repeated inputs across sources and can keep a source out of evaluation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-splits-'));
    dirs.push(dir);
    const generated = Array.from({ length: 50 }, (_, i) => ({ input: `same ${i}`, output: 'g' }));
    const retrieved = Array.from({ length: 50 }, (_, i) => ({ input: `SAME ${i}`, output: 'r' }));
    const result = await splitDatasetFiles({
      sources: [
        { path: await jsonl(dir, 'g.jsonl', generated), source: 'generated' },
        { path: await jsonl(dir, 'r.jsonl', retrieved), source: 'retrieved' },
      ],
      outDir: dir,
      trainOnlySources: ['generated'],
    });
    expect(result.duplicates).toBe(50);
    expect(result.counts).toEqual({ train: 50, validation: 0, test: 0 });
    await expect(splitDatasetFiles({ sources: [], outDir: dir, validation: 0.5, test: 0.5 })).rejects.toSatisfy((error: unknown) => InvalidArgumentError.isInstance(error));
  });

  it('keeps retrieved rows in train and drops those a contamination check flags against the finished test split', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2m-splits-'));
    dirs.push(dir);
    const generated = Array.from({ length: 200 }, (_, i) => ({ input: `generated question ${i}`, output: 'g' }));
    const retrieved = Array.from({ length: 200 }, (_, i) => ({ input: `generated question ${i} (retrieved copy)`, output: 'r' }));
    let testSeen = 0;
    const result = await splitDatasetFiles({
      // Retrieved listed first: it is still read after the test split is complete.
      sources: [
        { path: await jsonl(dir, 'r.jsonl', retrieved), source: 'retrieved' },
        { path: await jsonl(dir, 'g.jsonl', generated), source: 'generated' },
      ],
      outDir: dir,
      trainOnlySources: ['retrieved'],
      contamination: (testSet) => {
        testSeen = testSet.length;
        const inputs = new Set(testSet.map((row) => row.input));
        return { isContaminated: (row) => inputs.has(row.input.replace(' (retrieved copy)', '')) };
      },
    });
    expect(testSeen).toBe(result.counts.test);
    expect(result.contaminated).toBe(result.counts.test);
    const test = await readJsonlAll<Example>(join(dir, result.test!));
    const validation = await readJsonlAll<Example>(join(dir, result.validation!));
    expect([...test, ...validation].every((row) => row.meta?.source === 'generated')).toBe(true);
    expect(result.counts.train).toBe(200 - result.counts.test - result.counts.validation + 200 - result.contaminated);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core/internal';
import { ModelIndex, relevanceScorer } from '../src/internal.js';
import { readSampleCards, scoreSnapshot, snapshotQueries, type ScoreSnapshot } from './fixtures/make-score-snapshot.js';

// 298 real model cards (every 38th of the 11,320-card 2023 snapshot; see fixtures/README.md) and the
// BM25 relevance the wink-based index computed for them before the typed-array rewrite.
const expected = JSON.parse(await readFile(new URL('fixtures/score-snapshot.json', import.meta.url), 'utf8')) as ScoreSnapshot;

let dir: string;
let index: ModelIndex;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-index-scores-'));
  index = await ModelIndex.fromCards(readSampleCards());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ModelIndex scores', () => {
  it('equal, bit for bit, the scores of the implementation it replaced', async () => {
    const actual = await scoreSnapshot();
    expect(actual.cards).toBe(expected.cards);
    expect(actual.queries.map((query) => query.query)).toEqual(snapshotQueries);
    for (const [i, query] of actual.queries.entries()) {
      // toEqual compares numbers with Object.is: the same doubles, not merely close ones.
      expect({ query: query.query, matched: query.matched, top: query.top }).toEqual(expected.queries[i]);
    }
    expect(expected.queries.filter((query) => query.top.length > 0).length).toBeGreaterThan(15);
  });

  it('search (MaxScore over the matches that can reach the top k) ranks and scores exactly as the full pass', () => {
    // searchDetailed scores every match (it reports counts); search only the ones that can still
    // enter the top k, with popularity as a prior and the size filter as a per-model verdict.
    const optionSets = [
      {},
      { topK: 1 },
      { topK: 50 },
      { topK: Infinity },
      { topK: 0 },
      { maxSizeBytes: null },
      { maxSizeBytes: 3e8, topK: 20 },
      { allowUnknownSize: true, topK: 10 },
      { scorer: relevanceScorer, topK: 10 },
      { scorer: relevanceScorer, maxSizeBytes: null, allowUnknownSize: true, topK: 40 },
      { licenses: ['apache-2.0'], topK: 10 },
    ];
    const words = snapshotQueries.join(' ').split(/\s+/);
    const queries = [...snapshotQueries, ...Array.from({ length: 40 }, (_, i) => words.filter((_, j) => (j * 7 + i) % 11 === 0).join(' '))];
    for (const query of queries) {
      for (const options of optionSets) expect(index.search(query, options)).toEqual(index.searchDetailed(query, options).candidates);
    }
    expect(index.search('Translate English to German').length).toBe(5);
  });

  it('search ranks as the full pass on random cards where popularity and the size filter decide', async () => {
    let state = 99;
    const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const words = Array.from({ length: 120 }, (_, i) => `word${i.toString(36)}x`);
    const text = (length: number) => Array.from({ length }, () => words[Math.floor(words.length * random() ** 2)]!).join(' ');
    const cards = Array.from({ length: 600 }, (_, i) => ({
      id: `org/model-${i}`,
      card: text(1 + Math.floor(random() * 40)),
      // Downloads from 0 to 10⁹ (a prior up to 2.7), sizes known, unknown, small and large.
      downloads: random() < 0.1 ? null : Math.floor(10 ** (random() * 9)),
      sizeBytes: random() < 0.15 ? null : Math.floor(10 ** (6 + random() * 4)),
    }));
    const randomIndex = await ModelIndex.fromCards(cards);
    const optionSets = [{}, { topK: 1 }, { topK: 20 }, { maxSizeBytes: 1e8 }, { allowUnknownSize: true, topK: 3 }, { scorer: relevanceScorer }];
    for (let q = 0; q < 150; q++) {
      const query = text(1 + Math.floor(random() * 8));
      for (const options of optionSets) expect(randomIndex.search(query, options)).toEqual(randomIndex.searchDetailed(query, options).candidates);
    }
  });

  it('saves a binary index that loads back with identical results', async () => {
    const path = join(dir, 'index.bin');
    await index.save(path);
    const bytes = await readFile(path);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('P2MINDEX');
    const loaded = await ModelIndex.load(path);
    expect(loaded.size).toBe(index.size);
    expect(loaded.models()).toEqual(index.models());
    expect(loaded.createdAt).toBe(index.createdAt);
    for (const query of snapshotQueries) {
      for (const options of [{ topK: 10 }, { topK: 10, gpuMemoryBytes: 8e9, licenses: ['apache-2.0'] }, { topK: 40, maxSizeBytes: null, allowUnknownSize: true, scorer: relevanceScorer }]) {
        expect(loaded.searchDetailed(query, options)).toEqual(index.searchDetailed(query, options));
      }
    }
  });

  it('still loads a version 1 (JSON) index file', async () => {
    const path = join(dir, 'old-index.json');
    await writeFile(path, JSON.stringify(index.toJSON()));
    const loaded = await ModelIndex.open(path);
    for (const query of snapshotQueries) expect(loaded.search(query, { topK: 10 })).toEqual(index.search(query, { topK: 10 }));
  });

  it('refuses a damaged or foreign file with a hint to rebuild', async () => {
    const path = join(dir, 'index.bin');
    await index.save(path);
    const bytes = await readFile(path);
    const cut = join(dir, 'cut.bin');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    const truncated = (await ModelIndex.load(cut).catch((error: unknown) => error)) as ValidationError;
    expect(truncated).toBeInstanceOf(ValidationError);
    expect(truncated.message).toMatch(/truncated|outside the file/);
    expect(truncated.hint).toMatch(/index build/);

    const future = join(dir, 'future.bin');
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(99, 8);
    await writeFile(future, newer);
    await expect(ModelIndex.load(future)).rejects.toThrow(/version 99/);

    const foreign = join(dir, 'cards.txt');
    await writeFile(foreign, 'not an index at all');
    const error = (await ModelIndex.load(foreign).catch((caught: unknown) => caught)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/not a saved model index/);
    expect(error.hint).toMatch(/index build/);
  });
});

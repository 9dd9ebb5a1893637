import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core/internal';
import { ModelIndex, POPULARITY_TIE_BREAK, estimateFineTuneMemory, plainQuery, relevanceScorer, type ModelScorer } from '../src/internal.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

// Building the 11,320-card index takes ~3 s alone, but far longer while CI runs every package's
// tests and the real training stack at once on two cores.
const INDEX_BUILD_TIMEOUT_MS = 180_000;

// The real 2023 snapshot of 11,320 seq2seq model cards that Prompt2Model indexed.
const snapshot = fixturePath('hub/models.jsonl');
const GB = 1e9;

let index: ModelIndex;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-index-'));
  index = await ModelIndex.fromJsonl(snapshot);
}, INDEX_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ModelIndex over the 11,320-card snapshot', () => {
  it('indexes every card and detects architectures', () => {
    expect(index.size).toBe(11_320);
    const counts = new Map<string, number>();
    for (const model of index.models()) counts.set(model.architecture, (counts.get(model.architecture) ?? 0) + 1);
    // The snapshot is the seq2seq models: most must be recognised as encoder-decoder.
    expect(counts.get('encoder-decoder')! / index.size).toBeGreaterThan(0.85);
    expect(index.get('t5-small')).toMatchObject({ architecture: 'encoder-decoder', sizeBytes: 242065649, license: 'apache-2.0' });
    expect(index.get('google/flan-t5-base')?.downloads).toBe(4591624);
  });

  it('finds translation models for English-to-German translation, in that direction', () => {
    const top = index.search(plainQuery({ instruction: 'English-to-German translation', examples: [], language: 'en' }), { topK: 5 });
    expect(top).toHaveLength(5);
    for (const candidate of top) {
      // T5 was pre-trained with WMT English-German translation as one of its tasks.
      expect(candidate.id).toMatch(/t5|wmt|opus|translat|en[-_]de|en-?2-?de|mbart|m2m|nllb/i);
      expect(candidate.architecture).toBe('encoder-decoder');
    }
    expect(top.some((candidate) => /wmt19-en-de|opus-mt-en-de|en[-_]de/i.test(candidate.id))).toBe(true);
    expect(top.some((candidate) => /de[-_]?en\b/i.test(candidate.id))).toBe(false);
  });

  it('finds summarisers for news summarisation', () => {
    const top = index.search('Summarize news articles into a short summary', { topK: 5 });
    expect(top).toHaveLength(5);
    for (const candidate of top) expect(candidate.id).toMatch(/summar|news|cnn|xsum|pegasus|bart|tldr/i);
  });

  it('finds question-answering models for question answering', () => {
    const top = index.search(plainQuery({ instruction: 'Answer a question about a given passage', examples: [], language: 'en' }), { topK: 5 });
    expect(top).toHaveLength(5);
    for (const candidate of top) expect(candidate.architecture).toBe('encoder-decoder');
    // QA model names: *qa*, *squad*/*quad* (SQuAD, KorQuAD, LC-QuAD), FiD readers trained on Natural Questions.
    expect(top.filter((candidate) => /qa|question|squad|quad|answer|fid_.*nq/i.test(candidate.id)).length).toBeGreaterThanOrEqual(3);
  });

  it('ranks by BM25 relevance with popularity as a tie-breaker, best first', () => {
    const top = index.search('text summarization', { topK: 10 });
    for (let i = 1; i < top.length; i++) expect(top[i - 1]!.score).toBeGreaterThanOrEqual(top[i]!.score);
    for (const candidate of top) {
      expect(candidate.score).toBeCloseTo(candidate.relevance + POPULARITY_TIE_BREAK * Math.log10((candidate.downloads ?? 0) + 1), 9);
    }
  });

  it('removes models over the size limit instead of ranking them last (default 3 GB)', () => {
    const query = 'google flan-t5-xxl flan t5 xxl';
    const filtered = index.searchDetailed(query, { topK: 50 });
    expect(filtered.excluded.size).toBeGreaterThan(0);
    for (const candidate of filtered.candidates) expect(candidate.sizeBytes!).toBeLessThanOrEqual(3 * GB);
    expect(filtered.candidates.map((candidate) => candidate.id)).not.toContain('google/flan-t5-xxl');

    const unfiltered = index.search(query, { topK: 50, maxSizeBytes: null });
    expect(unfiltered.map((candidate) => candidate.id)).toContain('google/flan-t5-xxl');
    const small = index.search(query, { topK: 20, maxSizeBytes: 300e6 });
    for (const candidate of small) expect(candidate.sizeBytes!).toBeLessThanOrEqual(300e6);
  });

  it('filters by architecture and license allow-list', () => {
    const decoders = index.searchDetailed('text generation language model', { topK: 10, architectures: ['decoder-only'] });
    expect(decoders.candidates.length).toBeGreaterThan(0);
    expect(decoders.excluded.architecture).toBeGreaterThan(0);
    for (const candidate of decoders.candidates) expect(candidate.architecture).toBe('decoder-only');

    const mit = index.searchDetailed('summarization', { topK: 10, licenses: ['MIT'] });
    expect(mit.candidates).toHaveLength(10);
    expect(mit.excluded.license).toBeGreaterThan(0);
    for (const candidate of mit.candidates) expect(candidate.license).toBe('mit');
  });

  it('drops models whose estimated fine-tuning memory exceeds the GPU budget', () => {
    const query = 'instruction tuned flan t5 model';
    const budget = 12 * GB;
    const lora = index.searchDetailed(query, { topK: 20, maxSizeBytes: null, gpuMemoryBytes: budget });
    expect(lora.excluded.gpuMemory).toBeGreaterThan(0);
    for (const candidate of lora.candidates) expect(candidate.estimatedMemory!.loraBytes).toBeLessThanOrEqual(budget);
    const full = index.searchDetailed(query, { topK: 20, maxSizeBytes: null, gpuMemoryBytes: budget, trainingMethod: 'full' });
    expect(full.excluded.gpuMemory).toBeGreaterThan(lora.excluded.gpuMemory);
    for (const candidate of full.candidates) expect(candidate.estimatedMemory!.fullBytes).toBeLessThanOrEqual(budget);
    // A longer sequence needs more memory, so fewer models fit.
    const longer = index.searchDetailed(query, { topK: 20, maxSizeBytes: null, gpuMemoryBytes: budget, sequenceLength: 2048 });
    expect(longer.excluded.gpuMemory).toBeGreaterThan(lora.excluded.gpuMemory);
  });

  it('gives each result the memory estimate of the options searched with, search after search', () => {
    // The estimates are remembered per model for the last option set: changing options must not reuse them.
    const query = 'summarize news articles';
    for (const options of [{}, { batchSize: 32 }, { sequenceLength: 1024, precision: 'fp32' as const }, {}, { batchSize: 32 }]) {
      for (const candidate of index.search(query, { topK: 10, ...options })) {
        const model = index.get(candidate.id)!;
        if (model.sizeBytes === undefined && model.parameters === undefined) {
          expect(candidate.estimatedMemory).toBeUndefined();
          continue;
        }
        const expected = estimateFineTuneMemory({ parameters: model.parameters, sizeBytes: model.sizeBytes, ...options });
        expect(candidate.estimatedMemory).toEqual({ loraBytes: expected.loraBytes, fullBytes: expected.fullBytes });
      }
    }
  });

  it('takes a pluggable scorer', () => {
    const byRelevance = index.search('summarization of dialogues', { topK: 5, scorer: relevanceScorer });
    for (const candidate of byRelevance) expect(candidate.score).toBe(candidate.relevance);
    const seen: number[] = [];
    const preferSmall: ModelScorer = ({ relevance, model }) => {
      seen.push(relevance);
      return relevance / Math.log10(model.sizeBytes ?? 10);
    };
    const small = index.search('summarization of dialogues', { topK: 5, scorer: preferSmall });
    expect(seen.length).toBeGreaterThan(5);
    expect(small.map((candidate) => candidate.id)).not.toEqual(byRelevance.map((candidate) => candidate.id));
  });

  it('persists to JSON and loads back with identical results', async () => {
    const path = join(dir, 'index.json');
    await index.save(path);
    const loaded = await ModelIndex.load(path);
    expect(loaded.size).toBe(index.size);
    expect(loaded.prep).toBe('card-v1');
    expect(loaded.source).toBe(snapshot);
    for (const query of ['Translate English to German', 'news summarization', 'generate SQL from questions']) {
      expect(loaded.search(query, { topK: 10, gpuMemoryBytes: 24 * GB })).toEqual(index.search(query, { topK: 10, gpuMemoryBytes: 24 * GB }));
    }
    expect((await ModelIndex.open(path)).size).toBe(index.size);
  });
});

describe('ModelIndex inputs', () => {
  it('names the bad line of a JSON Lines snapshot', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, '{"id":"a","card":"x","sizeBytes":1,"downloads":1}\n{"card":"no id"}\n');
    await expect(ModelIndex.open(path)).rejects.toThrow(ValidationError);
    await expect(ModelIndex.open(path)).rejects.toThrow(/#2/);
  });

  it('keeps the first card of a repeated id and rejects a file that is not an index', async () => {
    const small = await ModelIndex.fromCards([
      { id: 'a/t5-de', card: 'German translation', sizeBytes: 1e8, downloads: 5 },
      { id: 'a/t5-de', card: 'Summaries', sizeBytes: 1e8, downloads: 5 },
    ]);
    expect(small.size).toBe(1);
    expect(small.search('german').map((candidate) => candidate.id)).toEqual(['a/t5-de']);
    expect(small.search('summaries')).toEqual([]);

    const notIndex = join(dir, 'not-index.json');
    await writeFile(notIndex, '{"hello":1}');
    await expect(ModelIndex.load(notIndex)).rejects.toThrow(ValidationError);
    await expect(ModelIndex.load(join(dir, 'missing.json'))).rejects.toMatchObject({ hint: expect.stringMatching(/index build/) });
  });

  it('keeps models of unknown size only when asked', async () => {
    const small = await ModelIndex.fromCards([
      { id: 'x/known', card: 'German translation model', sizeBytes: 1e8 },
      { id: 'x/unknown', card: 'German translation model' },
    ]);
    const strict = small.searchDetailed('german');
    expect(strict.candidates.map((candidate) => candidate.id)).toEqual(['x/known']);
    expect(strict.excluded.unknownSize).toBe(1);
    expect(small.search('german', { allowUnknownSize: true }).map((candidate) => candidate.id).sort()).toEqual(['x/known', 'x/unknown']);
  });
});

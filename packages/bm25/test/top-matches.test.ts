import { describe, expect, it } from 'vitest';
import { BinaryFileReader, BinaryFileWriter, Bm25Index } from '../src/index.js';

/** A seeded corpus with a Zipf-like vocabulary: a few words in most documents, many rare ones, long and short documents. */
function randomCorpus(seed: number, documents: number): { index: Bm25Index; words: string[]; random: () => number } {
  let state = seed >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const words = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}x`);
  const word = () => words[Math.min(words.length - 1, Math.floor(words.length * random() ** 3))]!;
  const index = new Bm25Index();
  for (let d = 0; d < documents; d++) {
    const length = 1 + Math.floor(random() * (random() < 0.1 ? 200 : 30));
    index.add(`doc-${d}`, Array.from({ length }, word).join(' '));
  }
  return { index, words, random };
}

/** The exhaustive ranking: every match scored, sorted by score (plus prior), relevance, then insertion order. */
function exhaustive(index: Bm25Index, query: string, k: number, prior?: Float64Array, skip?: Uint8Array) {
  const { documents, scores } = index.scoreAll(query);
  const all = Array.from(documents, (document, i) => ({ document, relevance: scores[i]!, score: prior ? scores[i]! + prior[document]! : scores[i]! })).filter(
    (match) => !skip || skip[match.document] === 0,
  );
  all.sort((a, b) => b.score - a.score || b.relevance - a.relevance || a.document - b.document);
  return all.slice(0, k);
}

describe('Bm25Index.topMatches (term-at-a-time MaxScore)', () => {
  it('gives the exhaustive top k, scores bit for bit, on a random corpus and random queries', () => {
    const { index, words, random } = randomCorpus(7, 2000);
    let queries = 0;
    for (let q = 0; q < 150; q++) {
      // 1 to 12 tokens, common and rare words, repeats and unknown words included.
      const tokens = Array.from({ length: 1 + Math.floor(random() * 12) }, () => (random() < 0.05 ? 'unknownword' : words[Math.floor(random() * (random() < 0.5 ? 30 : words.length))]!));
      const query = tokens.join(' ');
      for (const k of [1, 5, 10, 100]) {
        expect(index.topMatches(query, k)).toEqual(exhaustive(index, query, k));
        queries++;
      }
    }
    expect(queries).toBe(600);
  });

  it('search(query, limit) ranks and scores as the full search does', () => {
    const { index, words } = randomCorpus(11, 800);
    for (const query of [words.slice(0, 3).join(' '), `${words[1]} ${words[1]} ${words[200]}`, words.slice(100, 110).join(' ')]) {
      for (const limit of [1, 3, 10, 1000]) expect(index.search(query, limit)).toEqual(index.search(query).slice(0, limit));
    }
    expect(index.search('', 5)).toEqual([]);
    expect(index.search('unknownword', 5)).toEqual([]);
  });

  it('adds a per-document prior and leaves out skipped documents, as an exhaustive pass would', () => {
    const { index, words, random } = randomCorpus(3, 2000);
    // A small prior (a popularity tie-break) on most documents, a large one on a few; a third skipped.
    const prior = Float64Array.from({ length: index.size }, () => (random() < 0.02 ? random() * 5 : random() * 1e-3));
    const skip = Uint8Array.from({ length: index.size }, () => (random() < 0.33 ? 1 + Math.floor(random() * 2) : 0));
    for (let q = 0; q < 200; q++) {
      const query = Array.from({ length: 1 + Math.floor(random() * 8) }, () => words[Math.floor(random() * words.length)]!).join(' ');
      for (const k of [1, 5, 20]) expect(index.topMatches(query, k, { prior, skip })).toEqual(exhaustive(index, query, k, prior, skip));
    }
  });

  it('ranks long queries (more distinct terms than the small sort handles) and ties as the exhaustive pass', () => {
    const { index, words, random } = randomCorpus(13, 1500);
    for (let q = 0; q < 40; q++) {
      const query = Array.from({ length: 30 + Math.floor(random() * 120) }, () => words[Math.floor(random() * words.length)]!).join(' ');
      for (const k of [1, 5, 50]) expect(index.topMatches(query, k)).toEqual(exhaustive(index, query, k));
    }
    // Identical documents and priors: equal scores and relevances, so insertion order decides.
    const twins = new Bm25Index();
    for (let d = 0; d < 40; d++) twins.add(`twin-${d}`, d % 2 === 0 ? 'alpha beta beta' : 'alpha gamma');
    const prior = Float64Array.from({ length: 40 }, (_, d) => (d % 4 < 2 ? 0.5 : 0));
    for (const k of [1, 3, 7, 40]) {
      expect(twins.topMatches('alpha beta', k)).toEqual(exhaustive(twins, 'alpha beta', k));
      expect(twins.topMatches('gamma alpha', k, { prior })).toEqual(exhaustive(twins, 'gamma alpha', k, prior));
    }
  });

  it('leaves its buffers clear: the same query gives the same answer among other searches', () => {
    const { index, words, random } = randomCorpus(17, 1200);
    const queries = Array.from({ length: 30 }, () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => words[Math.floor(random() * 60)]!).join(' '));
    const first = queries.map((query) => index.topMatches(query, 5));
    for (const [i, query] of queries.entries()) {
      index.scoreAll(queries[(i + 7) % queries.length]!);
      index.topMatches(queries[(i + 3) % queries.length]!, 100);
      expect(index.topMatches(query, 5)).toEqual(first[i]);
      expect(first[i]).toEqual(exhaustive(index, query, 5));
    }
  });

  it('refuses a prior or skip column that is not one value per document, and reads its own columns in place', () => {
    const { index, words } = randomCorpus(11, 300);
    const query = words.slice(0, 5).join(' ');
    expect(() => index.topMatches(query, 5, { prior: new Float64Array(299) })).toThrow(/prior.*one per document \(300\)/s);
    expect(() => index.topMatches(query, 5, { skip: new Uint8Array(301) })).toThrow(/skip.*one per document \(300\)/s);
    // The index's own columns, filled by the caller, rank as the same values in other arrays do.
    const { prior, skip } = index.documentColumns();
    for (let d = 0; d < 300; d++) {
      prior[d] = (d % 17) / 10;
      skip[d] = d % 5 === 0 ? 1 : 0;
    }
    const expected = exhaustive(index, query, 5, prior.slice(), skip.slice());
    expect(index.topMatches(query, 5, { prior, skip, maxPrior: 1.6 })).toEqual(expected);
    expect(index.topMatches(query, 5, { prior: prior.slice(), skip: skip.slice() })).toEqual(expected);
    // Changed in place between queries: the next query reads the new values.
    prior.fill(0);
    skip.fill(0);
    expect(index.topMatches(query, 5, { prior, skip, maxPrior: 0 })).toEqual(exhaustive(index, query, 5));
  });

  it('works on an index loaded from a binary file', () => {
    const { index, words } = randomCorpus(5, 500);
    const writer = new BinaryFileWriter('TESTBM25', 1);
    index.writeTo(writer);
    const loaded = Bm25Index.readFrom(new BinaryFileReader(writer.toBytes(), 'TESTBM25', 'test index', 'rebuild it'));
    const query = words.slice(0, 6).join(' ');
    expect(loaded.topMatches(query, 5)).toEqual(exhaustive(index, query, 5));
  });
});

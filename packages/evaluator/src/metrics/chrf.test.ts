import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chrF, sentenceChrF, sentenceChrFScores } from './chrf.js';

const dataDir = resolve(import.meta.dirname, '../../../../../shared/data/metrics');

interface ChrFVector {
  id: string;
  level: 'sentence' | 'corpus';
  hyp: string | string[];
  refs: string[] | string[][];
  char_order: number;
  word_order: number;
  beta: number;
  eps_smoothing: boolean;
  whitespace: boolean;
  lowercase: boolean;
  expected: number;
  tolerance: number;
  computed_by_source: number;
  stats_hyp_ref_match_per_order: number[];
}

const vectors = (JSON.parse(readFileSync(resolve(dataDir, 'chrf_vectors.json'), 'utf8')) as { vectors: ChrFVector[] }).vectors;

describe('chrF parity with sacrebleu', () => {
  it('has the vectors', () => {
    expect(vectors.length).toBeGreaterThan(80);
  });

  it.each(vectors.map((vector) => [vector.id, vector] as const))('%s', (_id, vector) => {
    const options = {
      charOrder: vector.char_order,
      wordOrder: vector.word_order,
      beta: vector.beta,
      epsSmoothing: vector.eps_smoothing,
      whitespace: vector.whitespace,
      lowercase: vector.lowercase,
    };
    const result =
      vector.level === 'sentence'
        ? sentenceChrF(vector.hyp as string, vector.refs as string[], options)
        : chrF(vector.hyp as string[], vector.refs as string[][], options);
    expect(Math.abs(result.score - vector.computed_by_source)).toBeLessThan(1e-6);
    expect(Math.abs(result.score - vector.expected)).toBeLessThanOrEqual(vector.tolerance);
    expect(result.statistics).toEqual(vector.stats_hyp_ref_match_per_order);
  });
});

describe('chrF API', () => {
  it('names the metric like sacrebleu', () => {
    expect(chrF(['a'], ['a']).name).toBe('chrF2++');
    expect(chrF(['a'], ['a'], { wordOrder: 0 }).name).toBe('chrF2');
  });

  it('scores each sentence on its own with sentenceChrFScores', () => {
    const scores = sentenceChrFScores(['The cat sat.', 'nothing alike'], ['The cat sat.', [' zzz', 'qqq']]);
    expect(scores[0]).toBeCloseTo(100, 10);
    expect(scores[1]).toBeCloseTo(0, 10);
    expect(scores[0]).toBeCloseTo(sentenceChrF('The cat sat.', 'The cat sat.').score, 12);
  });

  it('rejects mismatched lengths and missing references', () => {
    expect(() => chrF(['a', 'b'], ['a'])).toThrow(/2 predictions but 1 references/);
    expect(() => chrF(['a'], [[]])).toThrow(/no reference/);
    expect(() => chrF(['a'], ['a'], { charOrder: 0, wordOrder: 0 })).toThrow(/at least 1/);
  });

  it('matches sacrebleu on the 10k-pair benchmark corpus', () => {
    const pairs = JSON.parse(readFileSync(resolve(dataDir, 'chrf_pairs_10k.json'), 'utf8')) as Array<[string, string]>;
    const result = chrF(
      pairs.map((pair) => pair[1]),
      pairs.map((pair) => pair[0]),
    );
    expect(result.score).toBeCloseTo(83.6703, 4);
  });
});

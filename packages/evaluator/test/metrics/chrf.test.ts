import { readJsonFixture } from '@prompt2model/testing/fixtures';
import { describe, expect, it } from 'vitest';
import { chrF, sentenceChrF, sentenceChrFScores } from '../../src/metrics/chrf.js';

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

const vectors = readJsonFixture<{ vectors: ChrFVector[] }>('metrics/chrf_vectors.json').vectors;

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
    const pairs = readJsonFixture<Array<[string, string]>>('metrics/chrf_pairs_10k.json');
    const result = chrF(
      pairs.map((pair) => pair[1]),
      pairs.map((pair) => pair[0]),
    );
    expect(result.score).toBeCloseTo(83.6703, 4);
  });
});

/** sacrebleu's algorithm written the plain way (substring counters), to cross-check the fast path. */
function naiveChrF(hyps: string[], refs: string[][], charOrder = 6, wordOrder = 2, beta = 2): number {
  const isSpace = (c: string) => /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(c);
  const split = (text: string) => text.split(/[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/).filter(Boolean);
  const punct = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
  const words = (text: string) =>
    split(text).flatMap((w) => (w.length === 1 ? [w] : punct.has(w.at(-1)!) ? [w.slice(0, -1), w.at(-1)!] : punct.has(w[0]!) ? [w[0]!, w.slice(1)] : [w]));
  const counter = (items: string[]) => items.reduce((map, item) => map.set(item, (map.get(item) ?? 0) + 1), new Map<string, number>());
  const ngrams = (text: string) => {
    const chars = [...text].filter((c) => !isSpace(c));
    const result: Map<string, number>[] = [];
    for (let n = 1; n <= charOrder; n++) result.push(counter(chars.slice(0, Math.max(0, chars.length - n + 1)).map((_, i) => chars.slice(i, i + n).join(''))));
    const tokens = words(text);
    for (let n = 1; n <= wordOrder; n++) result.push(counter(tokens.slice(0, Math.max(0, tokens.length - n + 1)).map((_, i) => tokens.slice(i, i + n).join(' '))));
    return result;
  };
  const totals = new Array(3 * (charOrder + wordOrder)).fill(0);
  const f = (stats: number[]) => {
    let p = 0, r = 0, eff = 0;
    for (let i = 0; i < stats.length / 3; i++) {
      const [h, rf, m] = stats.slice(3 * i, 3 * i + 3) as [number, number, number];
      p += h > 0 ? m / h : 1e-16;
      r += rf > 0 ? m / rf : 1e-16;
      if (h > 0 && rf > 0) eff++;
    }
    if (eff === 0) return 0;
    p /= eff;
    r /= eff;
    return p + r === 0 ? 0 : (100 * (1 + beta * beta) * p * r) / (beta * beta * p + r);
  };
  hyps.forEach((hyp, index) => {
    const h = ngrams(hyp);
    let best: number[] = [];
    let bestScore = -1;
    for (const ref of refs[index]!) {
      const rg = ngrams(ref);
      const stats = h.flatMap((counts, k) => {
        let m = 0;
        for (const [gram, c] of counts) m += Math.min(c, rg[k]!.get(gram) ?? 0);
        const nr = [...rg[k]!.values()].reduce((a, b) => a + b, 0);
        return [nr > 0 ? [...counts.values()].reduce((a, b) => a + b, 0) : 0, nr, m];
      });
      const score = f(stats);
      if (score > bestScore) {
        bestScore = score;
        best = stats;
      }
    }
    best.forEach((value, k) => (totals[k] += value));
  });
  return f(totals);
}

describe('chrF fast path against a plain implementation', () => {
  const random = (() => {
    let state = 12345;
    return () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  })();
  const alphabet = 'abcdefghij .,!?()éü東京🍕\t';
  const text = (length: number, symbols = alphabet) => Array.from({ length }, () => [...symbols][Math.floor(random() * [...symbols].length)]).join('');

  it('agrees on random short multi-reference sentences', () => {
    const hyps = Array.from({ length: 200 }, () => text(Math.floor(random() * 40)));
    const refs = hyps.map(() => Array.from({ length: 1 + Math.floor(random() * 3) }, () => text(Math.floor(random() * 40))));
    expect(chrF(hyps, refs).score).toBeCloseTo(naiveChrF(hyps, refs), 9);
  });

  it('agrees on long sentences with large alphabets (the hashed table path)', () => {
    const wide = Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('') + ' ';
    const hyps = [text(6000, wide), text(3000, wide)];
    const refs = [[text(6000, wide)], [hyps[1]!.slice(0, 2000) + text(1000, wide)]];
    expect(chrF(hyps, refs).score).toBeCloseTo(naiveChrF(hyps, refs), 9);
  });
});

import { describe, expect, it } from 'vitest';
import { chrF, nextGeneration, sentenceChrF, sentenceChrFScores, type ChrFOptions } from '../../src/metrics/chrf.js';

// sentenceChrF keeps its tables between calls (one scorer per option set): nothing of one call
// may leak into the next, whatever came before it.
describe('chrF scorers reused between calls', () => {
  const wide = Array.from({ length: 3000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 3000))).join('');
  const cases: Array<[string, string | string[]]> = [
    ['The cat sat on the mat.', 'The cat is on the mat.'],
    ['', 'not empty'],
    ['(hi) there, friend!', ['hi there friend', '(hi) there, friend!']],
    ['🍕 pizza 東京 🍕', '東京 🍕 pizza'],
    [wide, wide.slice(1000) + wide.slice(0, 1000)],
    ['tabs\tand\nnew lines', 'tabs and new lines'],
    ['zzz', ['qqq', 'www', 'zzz z']],
  ];
  const optionSets: ChrFOptions[] = [{}, { wordOrder: 0 }, { lowercase: true, whitespace: true }, { epsSmoothing: true, beta: 1 }, { charOrder: 3, wordOrder: 4 }];

  it('gives every sentence the same score in any call order', () => {
    const first = new Map<string, { score: number; statistics: number[] }>();
    for (const options of optionSets) {
      for (const [index, [hypothesis, references]] of cases.entries()) {
        const result = sentenceChrF(hypothesis, references, options);
        first.set(`${JSON.stringify(options)}:${index}`, { score: result.score, statistics: result.statistics });
      }
    }
    // Reverse order, option sets interleaved call by call.
    for (const [index, [hypothesis, references]] of [...cases.entries()].reverse()) {
      for (const options of [...optionSets].reverse()) {
        const result = sentenceChrF(hypothesis, references, options);
        const expected = first.get(`${JSON.stringify(options)}:${index}`)!;
        expect(Object.is(result.score, expected.score)).toBe(true);
        expect(result.statistics).toEqual(expected.statistics);
      }
    }
  });

  it('agrees bit for bit with the batch and corpus calls', () => {
    const hypotheses = cases.map(([hypothesis]) => hypothesis);
    const references = cases.map(([, references]) => references);
    const batch = sentenceChrFScores(hypotheses, references);
    cases.forEach(([hypothesis, refs], index) => {
      expect(Object.is(sentenceChrF(hypothesis, refs).score, batch[index])).toBe(true);
      expect(Object.is(chrF([hypothesis], [refs]).score, batch[index])).toBe(true);
    });
  });

  it('returns statistics the caller owns', () => {
    const first = sentenceChrF('abc def', 'abc xyz');
    const copy = [...first.statistics];
    sentenceChrF('something else entirely', 'other');
    expect(first.statistics).toEqual(copy);
  });

  it('rejects bad options on every call', () => {
    expect(() => sentenceChrF('a', 'a', { charOrder: -1 })).toThrow(/non-negative integer/);
    expect(() => sentenceChrF('a', 'a', { charOrder: -1 })).toThrow(/non-negative integer/);
  });

  it('clears a stamped table for real when its stamp would overflow Int32', () => {
    const stamps = new Int32Array([5, 0x7fffffff, 3]);
    expect(nextGeneration(41, stamps)).toBe(42);
    expect(Array.from(stamps)).toEqual([5, 0x7fffffff, 3]);
    expect(nextGeneration(0x7fffffff, stamps)).toBe(1);
    expect(Array.from(stamps)).toEqual([0, 0, 0]);
  });
});

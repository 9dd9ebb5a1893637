import { readJsonFixture } from '@prompt2model/testing/fixtures';
import { describe, expect, it } from 'vitest';
import { exactMatch, exactMatchScores, normalizeSquadAnswer, squadF1, squadF1Scores } from '../../src/metrics/exact-match.js';

interface Vectors {
  hf_exact_match: Array<{
    id: string;
    predictions: string[];
    references: string[];
    options: { regexes_to_ignore?: string[]; ignore_case?: boolean; ignore_punctuation?: boolean; ignore_numbers?: boolean };
    expected: number;
  }>;
  squad_normalize: Array<{ input: string; expected: string }>;
  squad_em_f1: Array<{ prediction: string; ground_truths: string[]; em: number; f1: number }>;
}

const vectors = readJsonFixture<Vectors>('metrics/exact_match_vectors.json');

describe('exact match parity with HF evaluate', () => {
  it.each(vectors.hf_exact_match.map((vector) => [vector.id, vector] as const))('%s', (_id, vector) => {
    const score = exactMatch(vector.predictions, vector.references, {
      regexesToIgnore: vector.options.regexes_to_ignore,
      ignoreCase: vector.options.ignore_case,
      ignorePunctuation: vector.options.ignore_punctuation,
      ignoreNumbers: vector.options.ignore_numbers,
    });
    expect(score).toBeCloseTo(vector.expected, 12);
  });
});

describe('official SQuAD normalisation', () => {
  it.each(vectors.squad_normalize.map((vector) => [vector.input, vector.expected] as const))('normalizes %j', (input, expected) => {
    expect(normalizeSquadAnswer(input)).toBe(expected);
  });

  it.each(vectors.squad_em_f1.map((vector) => [vector.prediction, vector] as const))('EM and F1 of %j', (_prediction, vector) => {
    expect(exactMatch([vector.prediction], [vector.ground_truths], { normalize: 'squad' })).toBe(vector.em);
    expect(squadF1([vector.prediction], [vector.ground_truths])).toBeCloseTo(vector.f1, 12);
  });

  it('averages over examples', () => {
    const predictions = vectors.squad_em_f1.map((vector) => vector.prediction);
    const references = vectors.squad_em_f1.map((vector) => vector.ground_truths);
    const f1 = vectors.squad_em_f1.map((vector) => vector.f1);
    expect(squadF1Scores(predictions, references)).toEqual(f1.map((value) => expect.closeTo(value, 12)));
    expect(squadF1(predictions, references)).toBeCloseTo(f1.reduce((a, b) => a + b, 0) / f1.length, 12);
    expect(exactMatchScores(predictions, references, { normalize: 'squad' })).toEqual(vectors.squad_em_f1.map((vector) => vector.em));
  });
});

describe('exact match API', () => {
  it('takes the best of several references and accepts RegExp objects', () => {
    expect(exactMatch(['b', 'x'], [['a', 'b'], ['y']])).toBe(0.5);
    expect(exactMatch(['Answer: 42'], ['42'], { regexesToIgnore: [/^answer:\s*/i] })).toBe(1);
  });

  it('is 0 for no predictions and rejects mismatched lengths', () => {
    expect(exactMatch([], [])).toBe(0);
    expect(() => exactMatch(['a'], [])).toThrow(/1 predictions but 0 references/);
  });
});

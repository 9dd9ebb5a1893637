import { describe, expect, it } from 'vitest';
import { chooseMetrics, computeMetrics, parseMetricNames } from '../../src/metrics/compute.js';

describe('metric choice and names', () => {
  it('picks metrics from the task type', () => {
    expect(chooseMetrics('classification')).toEqual(['exact_match']);
    expect(chooseMetrics('extraction')).toEqual(['exact_match']);
    expect(chooseMetrics('generation')).toEqual(['chrf++', 'bertscore']);
    expect(chooseMetrics(undefined)).toEqual(['exact_match', 'chrf++']);
  });

  it('parses names and aliases, once each, and rejects unknown ones', () => {
    expect(parseMetricNames('em, chrf++,accuracy,F1,chrf,BERTScore')).toEqual(['exact_match', 'chrf++', 'squad_f1', 'chrf', 'bertscore']);
    expect(() => parseMetricNames('em,bleu,rouge')).toThrow(/bleu: unknown metric; rouge: unknown metric/);
  });
});

describe('computeMetrics', () => {
  it('computes each named metric with its options (Prompt2Model reference numbers)', async () => {
    const predictions = ['The cat is sleeping.', 'The dog is barking.'];
    const references = ['The cat is sleeping.', 'The dog is playing.'];
    const scores = await computeMetrics(predictions, references, ['exact_match', 'chrf++', 'chrf', 'squad_f1']);
    expect(scores.exact_match).toBe(0.5);
    expect(scores['chrf++']).toBeCloseTo(78.29773360712932, 9);
    expect(scores.chrf).toBeLessThan(100);
    expect(scores.squad_f1).toBeCloseTo((1 + 2 / 3) / 2, 12);
    const lenient = await computeMetrics(['the CAT is sleeping'], ['The cat is sleeping.'], ['exact_match'], {
      exactMatch: { ignoreCase: true, ignorePunctuation: true },
    });
    expect(lenient.exact_match).toBe(1);
  });
});

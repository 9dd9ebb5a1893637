import { describe, expect, it } from 'vitest';
import { seededRandom } from '@prompt2model/core/internal';
import { addAgreementStats, emptyAgreementStats, estimateLabelNoise, firstRoundSize, voteConfidence, votesToConfidence } from '../src/label-noise.js';

describe('label noise', () => {
  const estimate = { noise: 0.17, concentration: 0.38 };

  it('is more confident with a wider margin, and never above one half in a tie', () => {
    expect(voteConfidence([3], estimate)).toBeGreaterThan(0.999);
    expect(voteConfidence([2, 1], estimate)).toBeLessThan(0.99);
    expect(voteConfidence([3, 1], estimate)).toBeGreaterThan(0.99);
    expect(voteConfidence([2, 2], estimate)).toBeLessThanOrEqual(0.5);
    expect(voteConfidence([1, 1, 1], estimate)).toBeLessThan(0.34);
    expect(voteConfidence([], estimate)).toBe(0);
    expect(votesToConfidence([2, 1], estimate, 0.99)).toBe(1);
    expect(votesToConfidence([2, 2], estimate, 0.99)).toBe(2);
  });

  it('asks for a bigger first round from a noisier teacher', () => {
    const quiet = firstRoundSize({ noise: 0.02, concentration: 0.4 }, 3, 13, 0.99);
    const noisy = firstRoundSize({ noise: 0.25, concentration: 0.4 }, 3, 13, 0.99);
    expect(quiet).toBe(3);
    expect(noisy).toBeGreaterThan(quiet);
    expect(firstRoundSize({ noise: 0.5, concentration: 1 }, 3, 7, 0.99)).toBe(7);
  });

  it('recovers the per-sample noise from first-round agreement', () => {
    const random = seededRandom(9);
    const stats = emptyAgreementStats();
    for (let input = 0; input < 2000; input++) {
      // Five votes, each wrong with probability 0.15, a wrong one of three wrong answers.
      const wrong = Array.from({ length: 5 }, () => (random() < 0.15 ? Math.floor(random() * 3) : -1)).filter((answer) => answer >= 0);
      let equal = 0;
      for (let i = 0; i < wrong.length; i++) for (let j = i + 1; j < wrong.length; j++) if (wrong[i] === wrong[j]) equal++;
      addAgreementStats(stats, { inputs: 1, votes: 5, disagreeing: wrong.length, wrongPairs: (wrong.length * (wrong.length - 1)) / 2, equalWrongPairs: equal, samples: 5 });
    }
    const result = estimateLabelNoise(stats);
    expect(result.noise).toBeCloseTo(0.15, 1);
    expect(Math.abs(result.noise - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(result.concentration - 1 / 3)).toBeLessThan(0.08);
    // No votes yet: the prior.
    expect(estimateLabelNoise(emptyAgreementStats(), 3)).toEqual({ noise: 0.1, concentration: 0.5 });
  });
});

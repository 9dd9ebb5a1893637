import { describe, expect, it } from 'vitest';
import { selfConsistencyVote } from '../src/self-consistency.js';

describe('selfConsistencyVote', () => {
  it('picks the majority and records votes and agreement', () => {
    const vote = selfConsistencyVote(['positive', 'negative', 'Positive.'])!;
    expect(vote.output).toBe('positive');
    expect(vote.votes).toEqual({ positive: 2, negative: 1 });
    expect(vote.agreement).toBeCloseTo(2 / 3);
    expect(vote.majority).toBe(true);
    expect(vote.tied).toBe(false);
  });

  it('reports a tie instead of resolving it by length or spelling', () => {
    const vote = selfConsistencyVote(['a longer answer', 'short', 'short', 'a longer answer'])!;
    expect(vote.output).toBe('a longer answer');
    expect(vote.tied).toBe(true);
    expect(vote.majority).toBe(false);
    expect(vote.agreement).toBe(0.5);
    expect(vote.counts).toEqual([2, 2]);
    // Three different dates of the same length: a three-way split, the first answer only leads.
    const split = selfConsistencyVote(['2024-03-05', '2024-05-03', '2023-03-05'])!;
    expect(split).toMatchObject({ output: '2024-03-05', tied: true, majority: false, counts: [1, 1, 1] });
    expect(selfConsistencyVote(['beta', 'alfa'])!.output).toBe('beta');
  });

  it('never prefers empty answers', () => {
    expect(selfConsistencyVote(['', '', 'x'])!.output).toBe('x');
    expect(selfConsistencyVote([])).toBeUndefined();
  });

  it('accepts a custom key', () => {
    const vote = selfConsistencyVote(['42', '42.0', '41'], { key: (text) => String(Number(text)) })!;
    expect(vote.output).toBe('42');
    expect(vote.agreement).toBeCloseTo(2 / 3);
  });
});

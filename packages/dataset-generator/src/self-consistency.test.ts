import { describe, expect, it } from 'vitest';
import { selfConsistencyVote } from './self-consistency.js';

describe('selfConsistencyVote', () => {
  it('picks the majority and records votes and agreement', () => {
    const vote = selfConsistencyVote(['positive', 'negative', 'Positive.'])!;
    expect(vote.output).toBe('positive');
    expect(vote.votes).toEqual({ positive: 2, negative: 1 });
    expect(vote.agreement).toBeCloseTo(2 / 3);
    expect(vote.majority).toBe(true);
    expect(vote.tied).toBe(false);
  });

  it('breaks ties by the shortest output', () => {
    const vote = selfConsistencyVote(['a longer answer', 'short', 'short', 'a longer answer'])!;
    expect(vote.output).toBe('short');
    expect(vote.tied).toBe(true);
    expect(vote.majority).toBe(false);
    expect(vote.agreement).toBe(0.5);
  });

  it('is deterministic for equal-length ties and never prefers empty answers', () => {
    expect(selfConsistencyVote(['beta', 'alfa'])!.output).toBe('alfa');
    expect(selfConsistencyVote(['', '', 'x'])!.output).toBe('x');
    expect(selfConsistencyVote([])).toBeUndefined();
  });

  it('accepts a custom key', () => {
    const vote = selfConsistencyVote(['42', '42.0', '41'], { key: (text) => String(Number(text)) })!;
    expect(vote.output).toBe('42');
    expect(vote.agreement).toBeCloseTo(2 / 3);
  });
});

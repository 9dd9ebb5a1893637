import { answerKey } from './text.js';

export interface SelfConsistencyOptions {
  /** Maps an output to the key votes are counted by. Default: `answerKey` (case, spacing, quotes, final period ignored). */
  key?: (output: string) => string;
}

export interface SelfConsistencyVote {
  /** The winning output: the shortest text among the samples in the winning group. */
  output: string;
  /** Output text (each group's shortest form) → number of samples that gave it. */
  votes: Record<string, number>;
  /** Samples that agreed with the winner, divided by all samples; 0 when there were none. */
  agreement: number;
  /** Number of samples counted. */
  total: number;
  /** True when the winner holds a strict majority (more than half of the samples). */
  majority: boolean;
  /**
   * True when another group has as many votes as the winner. The winner is then only the answer
   * seen first: callers ask for more votes or drop the input, never pick by spelling.
   */
  tied: boolean;
  /** Vote counts of the distinct answers, biggest first. */
  counts: number[];
}

/**
 * Majority vote over independent samples for one input. Outputs are grouped by `key`; the biggest
 * group wins and is written in its shortest form. A tie is reported (`tied`), not resolved: the
 * answer seen first leads, with no preference for length or spelling. Empty outputs never win
 * while any non-empty one exists.
 */
export function selfConsistencyVote(outputs: readonly string[], options: SelfConsistencyOptions = {}): SelfConsistencyVote | undefined {
  const keyOf = options.key ?? answerKey;
  const groups = new Map<string, { count: number; text: string }>();
  for (const raw of outputs) {
    const text = raw.trim();
    const key = keyOf(text);
    const group = groups.get(key);
    if (!group) groups.set(key, { count: 1, text });
    else {
      group.count++;
      if (text.length < group.text.length) group.text = text;
    }
  }
  // A stable sort: equal counts keep the order the answers were first seen in.
  const ranked = [...groups.values()].sort((a, b) => Number(a.text === '') - Number(b.text === '') || b.count - a.count);
  const winner = ranked[0];
  if (!winner) return undefined;
  const votes: Record<string, number> = {};
  for (const group of ranked) votes[group.text] = (votes[group.text] ?? 0) + group.count;
  const total = outputs.length;
  return {
    output: winner.text,
    votes,
    agreement: total === 0 ? 0 : winner.count / total,
    total,
    majority: winner.count * 2 > total,
    tied: ranked.length > 1 && ranked[1]!.count === winner.count && ranked[1]!.text !== '',
    counts: ranked.map((group) => group.count),
  };
}

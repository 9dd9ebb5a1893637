/**
 * How noisy the teacher's labels are, learned from how its votes agree, and how sure a vote is.
 *
 * The model: each label sample is right with probability 1 - p; a wrong sample takes one of the
 * wrong answers, any particular one with probability ω (the "concentration": 1/(L-1) for L labels,
 * smaller when wrong free-text answers scatter). Under it, the chance that answer j is the truth
 * given the vote counts is r^c_j / (Σ_k r^c_k + u), with r = (1 - p) / (p·ω) and u the weight of
 * "the truth is none of the answers seen". Errors a teacher makes the same way every time look like
 * agreement: no vote can see them, and this estimate does not include them.
 */

/** Agreement counts over the first round of votes (its size is fixed before any vote is seen, so they are unbiased). */
export interface AgreementStats {
  /** Inputs voted on. */
  inputs: number;
  /** First-round votes. */
  votes: number;
  /** First-round votes that differ from the input's final answer. */
  disagreeing: number;
  /** Pairs of such disagreeing votes within one input, and how many of those pairs were equal. */
  wrongPairs: number;
  equalWrongPairs: number;
  /** All votes asked for (every round). */
  samples: number;
}

export function emptyAgreementStats(): AgreementStats {
  return { inputs: 0, votes: 0, disagreeing: 0, wrongPairs: 0, equalWrongPairs: 0, samples: 0 };
}

export function addAgreementStats(into: AgreementStats, add: Partial<AgreementStats>): AgreementStats {
  for (const key of Object.keys(into) as Array<keyof AgreementStats>) into[key] += add[key] ?? 0;
  return into;
}

export interface LabelNoiseEstimate {
  /** Estimated share of label samples that are wrong (random noise, not consistent errors). */
  noise: number;
  /** Estimated chance that a wrong sample takes one particular wrong answer. */
  concentration: number;
}

/**
 * What the estimate says before it has seen votes, and how many votes that is worth. 10% noise is
 * typical of a capable teacher; a noisier one shows within the first few dozen inputs (the first
 * `lookahead` units vote with the prior alone, so a pessimistic prior would make them pay for
 * twice the votes they need).
 */
const PRIOR_NOISE = 0.1;
const PRIOR_VOTES = 30;
const PRIOR_PAIRS = 6;

/**
 * The noise estimate from agreement counts, shrunk toward the prior (10% noise; wrong answers
 * spread over the other labels, or 40% on one wrong free-text answer) while there are few votes.
 * `labels` is the size of the label set, if any.
 */
export function estimateLabelNoise(stats: AgreementStats, labels?: number): LabelNoiseEstimate {
  const noise = (stats.disagreeing + PRIOR_NOISE * PRIOR_VOTES) / (stats.votes + PRIOR_VOTES);
  const priorConcentration = labels && labels > 1 ? 1 / (labels - 1) : 0.4;
  const concentration = (stats.equalWrongPairs + priorConcentration * PRIOR_PAIRS) / (stats.wrongPairs + PRIOR_PAIRS);
  return { noise: clamp(noise, 0.005, 0.6), concentration: clamp(concentration, 0.01, 1) };
}

/**
 * The chance that the leading answer is right, given the vote counts of the distinct answers
 * (any order) and `unseen`, the number of other answers the truth could be (label set: labels not
 * voted for; free text: 1, "something else").
 */
export function voteConfidence(counts: readonly number[], estimate: LabelNoiseEstimate, unseen = 1): number {
  if (counts.length === 0) return 0;
  const logR = Math.log(ratio(estimate));
  const leader = Math.max(...counts);
  let others = unseen * Math.exp(-leader * logR);
  let leaderSeen = false;
  for (const count of counts) {
    if (count === leader && !leaderSeen) {
      leaderSeen = true;
      continue;
    }
    others += Math.exp((count - leader) * logR);
  }
  return 1 / (1 + others);
}

/**
 * Votes to ask for first: the fewest (at least `min`, at most `max`) that reach `target` confidence
 * in one round with probability `roundTarget`, assuming the wrong votes agree (the cautious case).
 * More votes in one request cost only their (short) answers; another request pays the prompt again.
 */
export function firstRoundSize(estimate: LabelNoiseEstimate, min: number, max: number, target: number, roundTarget = 0.9): number {
  for (let n = min; n < max; n++) {
    let reached = 0;
    for (let right = 0; right <= n; right++) {
      if (voteConfidence([right, n - right].filter((count) => count > 0), estimate) < target || right <= n - right) continue;
      reached += binomial(n, right) * (1 - estimate.noise) ** right * estimate.noise ** (n - right);
    }
    if (reached >= roundTarget) return n;
  }
  return max;
}

/** Votes that would lift the leader to `target` if they all agreed with it (at least 1). */
export function votesToConfidence(counts: readonly number[], estimate: LabelNoiseEstimate, target: number, unseen = 1, limit = 64): number {
  const sorted = [...counts].sort((a, b) => b - a);
  for (let extra = 1; extra < limit; extra++) {
    if (voteConfidence([sorted[0]! + extra, ...sorted.slice(1)], estimate, unseen) >= target) return extra;
  }
  return limit;
}

function ratio(estimate: LabelNoiseEstimate): number {
  return Math.max(1.0001, (1 - estimate.noise) / (estimate.noise * estimate.concentration));
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

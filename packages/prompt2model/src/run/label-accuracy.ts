/**
 * The expected accuracy of generated labels with its uncertainty: the report and `generate` show it
 * only with a 95% interval, or say that it cannot be estimated.
 */

export type LabelAccuracy = { estimate: number; low: number; high: number; inputsVoted: number } | { unknown: string };

/** Wilson score interval (95%) for a proportion p observed over n trials. */
export function wilsonInterval(p: number, n: number, z = 1.96): { low: number; high: number } {
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** From the generator's `labelNoise` summary: the interval over the inputs that were voted on. */
export function labelAccuracy(noise: { expectedAccuracy: number; inputsVoted?: unknown }): LabelAccuracy {
  const voted = noise.inputsVoted;
  return typeof voted === 'number' && voted > 0
    ? { estimate: noise.expectedAccuracy, ...wilsonInterval(noise.expectedAccuracy, voted), inputsVoted: voted }
    : { unknown: 'cannot be estimated: the generator recorded no vote counts' };
}

/** The expected label accuracy with its interval, or why it cannot be estimated: never a bare figure. */
export function labelAccuracyText(accuracy: LabelAccuracy): string {
  if ('unknown' in accuracy) return `the accuracy of the kept labels ${accuracy.unknown}`;
  const pct = (value: number) => (value * 100).toFixed(1);
  return `expected accuracy of the kept labels ${pct(accuracy.estimate)}% (95% Wilson interval ${pct(accuracy.low)}–${pct(accuracy.high)}% over ${accuracy.inputsVoted} voted inputs)`;
}

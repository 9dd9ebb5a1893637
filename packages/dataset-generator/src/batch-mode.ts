/**
 * Generator settings for Batch API mode: units are issued a round at a time (enough for the target
 * at the expected yield), so a round's inputs go into one batch and their votes into the next; a
 * round's prompts see the examples accepted in earlier rounds. No budget throttling by finished
 * units (a unit takes a whole batch) and no cap on labelling calls at once.
 */
export function batchGeneratorOptions(
  numExamples: number,
  options: { choicesPerRequest?: number; examplesPerChoice?: number } = {},
): { lookahead: number; budgetAwareIssuing: false; labelConcurrency: number } {
  const perUnit = (options.choicesPerRequest ?? 4) * (options.examplesPerChoice ?? 3);
  return { lookahead: Math.max(8, Math.ceil(numExamples / (perUnit * 0.5))), budgetAwareIssuing: false, labelConcurrency: Infinity };
}

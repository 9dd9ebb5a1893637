/** References this short and single-line are an exact format (a date, a label, a code), judged by exact match. */
const SHORT_REFERENCE_CHARS = 48;
const SHORT_REFERENCE_WORDS = 6;

/**
 * The metric a report leads with and the cascade is calibrated on: exact match for classification
 * and extraction, and for short single-line references; chrF++ (or chrF) otherwise, else the first
 * metric computed. `metrics` are result keys (`exact_match`, `chrf++`, `bertscore_f1`, ...).
 */
export function choosePrimaryMetric(taskType: string | undefined, references: readonly string[], metrics: Record<string, number> | readonly string[]): string {
  const names = Array.isArray(metrics) ? (metrics as readonly string[]) : Object.keys(metrics);
  const short =
    references.length > 0 && references.every((ref) => !ref.includes('\n') && ref.trim().length <= SHORT_REFERENCE_CHARS && ref.trim().split(/\s+/).length <= SHORT_REFERENCE_WORDS);
  if (taskType === 'classification' || taskType === 'extraction' || short) return 'exact_match';
  return names.find((name) => name.startsWith('chrf')) ?? names[0] ?? 'exact_match';
}

import { Prompt2ModelError, ValidationError, type TaskType } from '@prompt2model/core/internal';
import { isModelLoadError } from '../transformers-runtime.js';
import { bertScore, type BertScoreOptions } from './bertscore.js';
import { chrF, type ChrFOptions } from './chrf.js';
import { exactMatch, squadF1, type ExactMatchOptions } from './exact-match.js';

/**
 * Metric names as reports and the CLI spell them. `exact_match` is in [0, 1]; `chrf` (chrF2) and
 * `chrf++` (chrF2++) on 0–100; `squad_f1` and the BERTScore components in [0, 1].
 */
export const METRIC_NAMES = ['exact_match', 'squad_f1', 'chrf', 'chrf++', 'bertscore'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

const ALIASES: Record<string, MetricName> = {
  em: 'exact_match',
  exact_match: 'exact_match',
  'exact-match': 'exact_match',
  accuracy: 'exact_match',
  f1: 'squad_f1',
  squad_f1: 'squad_f1',
  chrf: 'chrf',
  chrf2: 'chrf',
  'chrf++': 'chrf++',
  chrfpp: 'chrf++',
  'chrf2++': 'chrf++',
  bertscore: 'bertscore',
  bert_score: 'bertscore',
  'bert-score': 'bertscore',
};

/** Parses metric names (`em,chrf++`), accepting common aliases; unknown names are a ValidationError. */
export function parseMetricNames(names: string | readonly string[]): MetricName[] {
  const list = (typeof names === 'string' ? names.split(',') : names).map((name) => name.trim().toLowerCase()).filter(Boolean);
  const unknown = list.filter((name) => !(name in ALIASES));
  if (unknown.length > 0) {
    throw new ValidationError({
      subject: 'metric names',
      issues: unknown.map((name) => ({ path: name, message: 'unknown metric' })),
      hint: `Use any of: ${Object.keys(ALIASES).join(', ')}.`,
    });
  }
  return [...new Set(list.map((name) => ALIASES[name]!))];
}

/**
 * Metrics for a task type when the user picks none: classification and structured output
 * (extraction) are judged by exact match; free text by chrF++ and BERTScore. Unknown task types get
 * exact match and chrF++ (both cheap, no model needed).
 */
export function chooseMetrics(taskType: TaskType | undefined): MetricName[] {
  switch (taskType) {
    case 'classification':
    case 'extraction':
      return ['exact_match'];
    case 'generation':
      return ['chrf++', 'bertscore'];
    default:
      return ['exact_match', 'chrf++'];
  }
}

export interface ComputeMetricsOptions {
  exactMatch?: ExactMatchOptions;
  chrF?: ChrFOptions;
  bertScore?: BertScoreOptions;
  /**
   * When set, BERTScore is skipped (and this is called) if its encoder cannot be loaded, instead of
   * failing the whole evaluation: for metrics chosen automatically, where the default encoder may
   * simply not be on this machine.
   */
  onBertScoreUnavailable?: (error: Prompt2ModelError) => void;
}

/** The chrF options a metric name means: `chrf` is chrF2 (no word n-grams), `chrf++` chrF2++ (word bigrams unless set). */
export function chrFOptionsFor(metric: 'chrf' | 'chrf++', options: ComputeMetricsOptions = {}): ChrFOptions {
  return metric === 'chrf' ? { ...options.chrF, wordOrder: 0 } : { ...options.chrF, wordOrder: options.chrF?.wordOrder || 2 };
}

/**
 * Computes the named metrics. Result keys: `exact_match`, `squad_f1`, `chrf`, `chrf++`, and for
 * BERTScore `bertscore_precision`, `bertscore_recall`, `bertscore_f1` (means over examples).
 */
export async function computeMetrics(
  predictions: readonly string[],
  references: ReadonlyArray<string | readonly string[]>,
  metrics: readonly MetricName[],
  options: ComputeMetricsOptions = {},
): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const metric of metrics) {
    switch (metric) {
      case 'exact_match':
        result.exact_match = exactMatch(predictions, references, options.exactMatch);
        break;
      case 'squad_f1':
        result.squad_f1 = squadF1(predictions, references);
        break;
      case 'chrf':
      case 'chrf++':
        result[metric] = chrF(predictions, references, chrFOptionsFor(metric, options)).score;
        break;
      case 'bertscore': {
        let scores;
        try {
          scores = await bertScore(predictions, references, options.bertScore);
        } catch (error) {
          if (!options.onBertScoreUnavailable || !isModelLoadError(error)) throw error;
          options.onBertScoreUnavailable(error);
          break;
        }
        result.bertscore_precision = scores.mean.precision;
        result.bertscore_recall = scores.mean.recall;
        result.bertscore_f1 = scores.mean.f1;
        break;
      }
    }
  }
  return result;
}

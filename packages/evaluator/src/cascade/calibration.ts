import {
  ConfidenceUnavailableError,
  InvalidArgumentError,
  RUN_FILES,
  type CalibrationPoint,
  type CascadeCalibration,
  type Example,
  type ExecutionStats,
  type Executor,
  type StageContext,
  type TaskType,
  type TokenPrice,
} from '@prompt2model/core/internal';
import { chrFScoreOf, chrFStatistics } from '../metrics/chrf.js';
import { chrFOptionsFor, computeMetrics, type ComputeMetricsOptions, type MetricName } from '../metrics/compute.js';
import { choosePrimaryMetric } from '../metrics/primary-metric.js';
import { studentKeeps } from './cascade.js';

/** The default share of the teacher's quality the chosen threshold keeps. */
export const DEFAULT_TARGET_QUALITY = 0.99;
/** Most thresholds on a curve: beyond this many distinct confidences, evenly spaced quantiles of them. */
export const MAX_CALIBRATION_THRESHOLDS = 200;

/** One held-out input: the student's answer and confidence, the teacher's answer, the reference. */
export interface CalibrationRow {
  input: string;
  reference: string | string[];
  student: string;
  teacher: string;
  /** The student's confidence; `null` when it reported none (such an input always goes to the teacher). */
  confidence: number | null;
}

export interface CalibrationCurveOptions {
  /** Result key of the metric to score with (`exact_match`, `chrf++`, `chrf`, `squad_f1`, `bertscore_f1`). */
  metric: string;
  metricOptions?: ComputeMetricsOptions;
  /** Share of the teacher's quality the chosen threshold keeps (default 0.99). */
  targetQuality?: number;
  /** Thresholds to try (default: every distinct confidence of the rows, at most `MAX_CALIBRATION_THRESHOLDS`). */
  thresholds?: readonly number[];
}

export interface CalibrationCurve {
  metric: string;
  targetQuality: number;
  studentQuality: number;
  teacherQuality: number;
  curve: CalibrationPoint[];
  chosen: CascadeCalibration['chosen'];
}

const METRIC_OF_KEY: Record<string, MetricName> = {
  exact_match: 'exact_match',
  squad_f1: 'squad_f1',
  chrf: 'chrf',
  'chrf++': 'chrf++',
  bertscore_f1: 'bertscore',
  bertscore_precision: 'bertscore',
  bertscore_recall: 'bertscore',
};
const KEY_OF_METRIC: Record<MetricName, string> = { exact_match: 'exact_match', squad_f1: 'squad_f1', chrf: 'chrf', 'chrf++': 'chrf++', bertscore: 'bertscore_f1' };

/** The primary metric's result key for a task (as the run report picks it) from the metrics an evaluator computes. */
export function calibrationMetric(taskType: TaskType | undefined, references: readonly (string | string[])[], metrics: readonly MetricName[]): string {
  const first = references.map((reference) => (Array.isArray(reference) ? (reference[0] ?? '') : reference));
  return choosePrimaryMetric(taskType, first, metrics.map((metric) => KEY_OF_METRIC[metric]));
}

function checkTarget(targetQuality: number): void {
  if (typeof targetQuality !== 'number' || !(targetQuality > 0) || targetQuality > 1) {
    throw new InvalidArgumentError({ argument: 'targetQuality', value: targetQuality, expected: 'a share of the teacher\'s quality above 0 and at most 1 (e.g. 0.99)' });
  }
}

/** The thresholds worth trying: each distinct confidence (a lower one keeps more traffic), thinned to quantiles past `max`. */
export function candidateThresholds(confidences: readonly (number | null)[], max = MAX_CALIBRATION_THRESHOLDS): number[] {
  const distinct = [...new Set(confidences.filter((value): value is number => typeof value === 'number' && Number.isFinite(value)))].sort((a, b) => a - b);
  if (distinct.length <= max) return distinct;
  const picked = new Set<number>();
  for (let index = 0; index < max; index++) picked.add(distinct[Math.round((index * (distinct.length - 1)) / (max - 1))]!);
  return [...picked].sort((a, b) => a - b);
}

/**
 * The default threshold of a curve: among the thresholds whose quality is at least `targetQuality`
 * of the teacher's, the one that keeps the most traffic on the student, the lowest among equals;
 * `threshold: null` (everything to the teacher) when none does.
 */
export function chooseThreshold(curve: readonly CalibrationPoint[], teacherQuality: number, targetQuality = DEFAULT_TARGET_QUALITY): CascadeCalibration['chosen'] {
  checkTarget(targetQuality);
  // A hair of tolerance, so a cascade exactly at the target is not lost to floating point.
  const floor = targetQuality * teacherQuality - 1e-9;
  let best: CalibrationPoint | undefined;
  for (const point of curve) {
    if (point.quality < floor) continue;
    if (!best || point.coverage > best.coverage || (point.coverage === best.coverage && point.threshold < best.threshold)) best = point;
  }
  if (!best) return { threshold: null, coverage: 0, quality: teacherQuality, ...(teacherQuality > 0 ? { relativeQuality: 1 } : {}) };
  return { threshold: best.threshold, coverage: best.coverage, quality: best.quality, ...(best.relativeQuality !== undefined ? { relativeQuality: best.relativeQuality } : {}) };
}

/**
 * The coverage-quality curve of a cascade over held-out rows: for each threshold, the share of
 * inputs the student keeps (confidence at least the threshold) and the metric of the mixed
 * answers (the student's where kept, the teacher's elsewhere) against the references, computed as
 * the evaluator computes it (a corpus metric such as chrF++ over the mixed answers, not an average
 * of per-row scores). Pure: no model is called.
 */
export async function calibrationCurve(rows: readonly CalibrationRow[], options: CalibrationCurveOptions): Promise<CalibrationCurve> {
  const targetQuality = options.targetQuality ?? DEFAULT_TARGET_QUALITY;
  checkTarget(targetQuality);
  const metric = METRIC_OF_KEY[options.metric];
  if (!metric) throw new InvalidArgumentError({ argument: 'metric', value: options.metric, expected: `one of ${Object.keys(METRIC_OF_KEY).join(', ')}` });
  if (rows.length === 0) throw new InvalidArgumentError({ argument: 'rows', value: [], message: 'Calibration needs held-out rows; there are none.', hint: 'Give the run a validation split (e.g. more examples, or a larger `split.validation`).' });
  const references = rows.map((row) => row.reference);
  const score = mixScorer(rows, references, metric, options.metric, options.metricOptions);
  const studentQuality = await score(rows.map(() => true));
  const teacherQuality = await score(rows.map(() => false));
  const curve: CalibrationPoint[] = [];
  for (const threshold of options.thresholds ?? candidateThresholds(rows.map((row) => row.confidence))) {
    const kept = rows.map((row) => studentKeeps(row.confidence, threshold));
    const studentAnswers = kept.filter(Boolean).length;
    const quality = await score(kept);
    curve.push({ threshold, coverage: studentAnswers / rows.length, quality, ...(teacherQuality > 0 ? { relativeQuality: quality / teacherQuality } : {}) });
  }
  curve.sort((a, b) => a.threshold - b.threshold);
  return { metric: options.metric, targetQuality, studentQuality, teacherQuality, curve, chosen: chooseThreshold(curve, teacherQuality, targetQuality) };
}

/**
 * Scores a mix of the answers (`kept[i]`: the student's, else the teacher's) against the
 * references with the metric. chrF is a corpus metric: each answer's statistics are computed once
 * and summed per mix, which gives exactly what `computeMetrics` gives for the mixed list.
 */
function mixScorer(rows: readonly CalibrationRow[], references: ReadonlyArray<string | string[]>, metric: MetricName, key: string, metricOptions?: ComputeMetricsOptions): (kept: readonly boolean[]) => Promise<number> {
  if (metric === 'chrf' || metric === 'chrf++') {
    const chrFOptions = chrFOptionsFor(metric, metricOptions);
    const student = chrFStatistics(rows.map((row) => row.student), references, chrFOptions);
    const teacher = chrFStatistics(rows.map((row) => row.teacher), references, chrFOptions);
    return async (kept) => {
      const totals = new Float64Array(student[0]?.length ?? 0);
      kept.forEach((fromStudent, index) => {
        const statistics = (fromStudent ? student : teacher)[index]!;
        for (let k = 0; k < totals.length; k++) totals[k]! += statistics[k]!;
      });
      return chrFScoreOf(totals, chrFOptions);
    };
  }
  return async (kept) => {
    const outputs = rows.map((row, index) => (kept[index] ? row.student : row.teacher));
    return (await computeMetrics(outputs, references, [metric], metricOptions))[key] ?? 0;
  };
}

/** Expected cost per 1,000 calls of the teacher alone, the student alone and the cascade at a coverage. */
export function cascadeCostPer1000(options: {
  /** The teacher's measured traffic on the held-out calls. */
  teacher: Pick<ExecutionStats, 'requests' | 'inputTokens' | 'outputTokens' | 'costUsd'>;
  /** USD per 1M tokens; without one, the measured `costUsd` (0 for an unpriced model). */
  teacherPrice?: TokenPrice;
  /** The student's cost per 1,000 calls (0 for a local model: its compute is not priced). */
  studentPer1000Usd?: number;
  /** Share of calls the student keeps. */
  coverage: number;
}): CascadeCalibration['costPer1000'] {
  const { teacher, teacherPrice, coverage } = options;
  const perCall =
    teacher.requests === 0
      ? 0
      : teacherPrice
        ? ((teacher.inputTokens / teacher.requests) * teacherPrice.inputPer1M + (teacher.outputTokens / teacher.requests) * teacherPrice.outputPer1M) / 1_000_000
        : teacher.costUsd / teacher.requests;
  const teacherOnlyUsd = perCall * 1000;
  const studentOnlyUsd = options.studentPer1000Usd ?? 0;
  // The student answers every call; the teacher only those it does not keep.
  return { teacherOnlyUsd, studentOnlyUsd, cascadeUsd: studentOnlyUsd + teacherOnlyUsd * (1 - coverage), priced: teacherPrice !== undefined || teacher.costUsd > 0 };
}

export interface CalibrateCascadeOptions {
  student: Executor;
  teacher: Executor;
  /** Held-out `{input, output}` rows the student was not trained on. */
  examples: readonly Pick<Example, 'input' | 'output'>[];
  /** Where they came from, recorded in the calibration (default: the run's validation split). */
  heldOut?: { split: string; file: string };
  /** The metrics the evaluator computes (the primary one is picked from them as the report does); default exact match and chrF++. */
  metrics?: readonly MetricName[];
  /** Score with this result key instead (`exact_match`, `chrf++`, ...). */
  metric?: string;
  taskType?: TaskType;
  metricOptions?: ComputeMetricsOptions;
  targetQuality?: number;
  thresholds?: readonly number[];
}

/**
 * Calibrates a student→teacher cascade: runs the student and the teacher over held-out rows (the
 * teacher's calls are paid, through the context's LLM cache and cost ledger, so a rerun pays
 * nothing twice), then draws the coverage-quality curve, picks the default threshold and prices
 * 1,000 calls of each way of answering.
 */
export async function calibrateCascade(options: CalibrateCascadeOptions, context: StageContext): Promise<CascadeCalibration> {
  const targetQuality = options.targetQuality ?? DEFAULT_TARGET_QUALITY;
  checkTarget(targetQuality);
  const inputs = options.examples.map((example) => example.input);
  const studentPredictions = await options.student.execute(inputs, context);
  if (inputs.length > 0 && studentPredictions.every((prediction) => typeof prediction.confidence !== 'number')) {
    throw new ConfidenceUnavailableError({
      model: options.student.modelId,
      message: `The student (${options.student.modelId}, ${options.student.name}) reports no confidence for its answers, so a cascade cannot tell when to ask the teacher.`,
      hint: 'Calibrate the ONNX export of the model (local training exports one; `prompt2model export` makes one): the ONNX executor reports each answer\'s confidence.',
    });
  }
  const studentStats = options.student.lastRun;
  const teacherPredictions = await options.teacher.execute(inputs, context);
  const teacherStats = options.teacher.lastRun ?? { requests: inputs.length, cachedRequests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, wallMs: 0 };
  const rows: CalibrationRow[] = options.examples.map((example, index) => ({
    input: example.input,
    reference: example.output,
    student: studentPredictions[index]?.output ?? '',
    teacher: teacherPredictions[index]?.output ?? '',
    confidence: typeof studentPredictions[index]?.confidence === 'number' ? studentPredictions[index]!.confidence! : null,
  }));
  const metric = options.metric ?? calibrationMetric(options.taskType, rows.map((row) => row.reference), options.metrics ?? ['exact_match', 'chrf++']);
  const curve = await calibrationCurve(rows, {
    metric,
    targetQuality,
    ...(options.metricOptions ? { metricOptions: options.metricOptions } : {}),
    ...(options.thresholds ? { thresholds: options.thresholds } : {}),
  });
  const teacherModel = options.teacher.modelId;
  const teacherPrice = context.ledger.priceFor(teacherModel);
  const studentPer1000Usd = studentStats && studentStats.requests > 0 ? (studentStats.costUsd / studentStats.requests) * 1000 : 0;
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    heldOut: { ...(options.heldOut ?? { split: 'validation', file: RUN_FILES.validation }), count: rows.length },
    metric,
    targetQuality,
    student: { model: options.student.modelId, quality: curve.studentQuality, costPer1000Usd: studentPer1000Usd },
    teacher: {
      model: teacherModel,
      quality: curve.teacherQuality,
      requests: teacherStats.requests,
      cachedRequests: teacherStats.cachedRequests,
      inputTokens: teacherStats.inputTokens,
      outputTokens: teacherStats.outputTokens,
      costUsd: teacherStats.costUsd,
      ...(teacherPrice ? { price: { inputPer1M: teacherPrice.inputPer1M, outputPer1M: teacherPrice.outputPer1M } } : {}),
    },
    curve: curve.curve,
    chosen: curve.chosen,
    costPer1000: cascadeCostPer1000({ teacher: teacherStats, ...(teacherPrice ? { teacherPrice } : {}), studentPer1000Usd, coverage: curve.chosen.coverage }),
    rows,
  };
}

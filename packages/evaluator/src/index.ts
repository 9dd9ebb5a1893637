/**
 * @prompt2model/evaluator: metrics (exact match, SQuAD F1, chrF/chrF++, BERTScore) and executors
 * (an ONNX model in Node, a language model), the Evaluator stage and the teacher-vs-student report.
 * Metric internals (tokenizers, IDF weights, baselines) are under `@prompt2model/evaluator/internal`.
 */
export { chrF, sentenceChrF, type ChrFOptions, type ChrFResult } from './metrics/chrf.js';
export { exactMatch, squadF1, type ExactMatchOptions, type References } from './metrics/exact-match.js';
export { bertScore, DEFAULT_BERTSCORE_MODEL, type BertScoreOptions, type BertScoreResult } from './metrics/bertscore.js';
export { computeMetrics, chooseMetrics, METRIC_NAMES, type ComputeMetricsOptions, type MetricName } from './metrics/compute.js';
export { OnnxExecutor, type OnnxExecutorOptions, type GenerationTask } from './executors/onnx-executor.js';
export { LanguageModelExecutor, type LanguageModelExecutorOptions } from './executors/language-model-executor.js';
export type { ExecutionStats } from './executors/run-stats.js';
export { createCascade, CascadeExecutor, type CascadeCounts, type CascadeExecutionStats, type CascadeOptions, type CascadePrediction, type CascadeSource } from './cascade/cascade.js';
export { calibrateCascade, calibrationCurve, chooseThreshold, cascadeCostPer1000, DEFAULT_TARGET_QUALITY, type CalibrateCascadeOptions, type CalibrationCurve, type CalibrationCurveOptions, type CalibrationRow } from './cascade/calibration.js';
export { choosePrimaryMetric } from './metrics/primary-metric.js';
export { createEvaluator, scorePredictions, type EvaluatorOptions, type ScoreOptions } from './evaluator.js';
export { readPredictionFiles, readTestSetFile, type PredictionFiles } from './input-files.js';
export { compareTeacherStudent, comparisonMarkdown, type CompareOptions, type TeacherStudentComparison } from './compare.js';
export type { ModelLoadOptions } from './transformers-runtime.js';

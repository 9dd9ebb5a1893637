export { chrF, sentenceChrF, sentenceChrFScores, type ChrFOptions, type ChrFResult } from './metrics/chrf.js';
export {
  exactMatch,
  exactMatchScores,
  normalizeSquadAnswer,
  prepareForExactMatch,
  squadF1,
  squadF1Scores,
  type ExactMatchOptions,
  type References,
} from './metrics/exact-match.js';
export {
  bertScore,
  greedyMatch,
  idfWeights,
  loadBertScoreBaseline,
  parseBertScoreBaseline,
  rescaleBertScore,
  TransformersTokenEncoder,
  DEFAULT_BERTSCORE_MODEL,
  type BertScoreBaseline,
  type BertScoreOptions,
  type BertScoreResult,
  type BertScoreTriple,
  type EncodedText,
  type TokenEncoder,
  type TokenWeights,
  type TransformersTokenEncoderOptions,
} from './metrics/bertscore.js';
export { isPythonWhitespace, pythonSplit } from './metrics/python-text.js';
export {
  chooseMetrics,
  computeMetrics,
  parseMetricNames,
  METRIC_NAMES,
  type ComputeMetricsOptions,
  type MetricName,
} from './metrics/compute.js';
export { OnnxExecutor, type OnnxExecutorOptions, type GenerationTask } from './executors/onnx-executor.js';
export { LanguageModelExecutor, type LanguageModelExecutorOptions } from './executors/language-model-executor.js';
export type { ExecutionStats } from './executors/run-stats.js';
export {
  createEvaluator,
  evaluatorExecutors,
  readTestSet,
  scorePredictions,
  trainingPrompt,
  type EvaluatorOptions,
  type ScoreOptions,
} from './evaluator.js';
export { readPredictionFiles, readTestSetFile, type PredictionFiles } from './input-files.js';
export { compareTeacherStudent, comparisonMarkdown, type CompareOptions, type TeacherStudentComparison } from './compare.js';
export type { ModelLoadOptions } from './transformers-runtime.js';

/**
 * `@prompt2model/evaluator/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/evaluator`.
 */
export * from './index.js';
export { sentenceChrFScores } from './metrics/chrf.js';
export { exactMatchScores, normalizeSquadAnswer, prepareForExactMatch, squadF1Scores } from './metrics/exact-match.js';
export { greedyMatch, idfWeights, loadBertScoreBaseline, parseBertScoreBaseline, rescaleBertScore, TransformersTokenEncoder, type BertScoreBaseline, type BertScoreTriple, type EncodedText, type TokenEncoder, type TokenWeights, type TransformersTokenEncoderOptions } from './metrics/bertscore.js';
export { isPythonWhitespace, pythonSplit } from './metrics/python-text.js';
export { parseMetricNames } from './metrics/compute.js';
export { evaluatorExecutors, readTestSet, trainingPrompt } from './evaluator.js';
export { loadTransformers } from './transformers-runtime.js';
export { cascadeThreshold, studentKeeps } from './cascade/cascade.js';
export { calibrationMetric, candidateThresholds, MAX_CALIBRATION_THRESHOLDS } from './cascade/calibration.js';

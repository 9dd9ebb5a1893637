/**
 * `@prompt2model/dataset-generator/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/dataset-generator`.
 */
export * from './index.js';
export { progressLogPath } from './generator.js';
export {
  estimateLabelNoise,
  voteConfidence,
  type AgreementStats,
  type LabelNoiseEstimate,
} from './label-noise.js';
export { answerKeyFor } from './labeller.js';
export {
  NearDuplicateIndex,
  estimateSimilarity,
  ngramJaccard,
  type NearDuplicateIndexOptions,
  type NearDuplicateMatch,
} from './near-duplicate.js';
export { ContaminationIndex, decontaminate, type DecontaminationOptions } from './decontamination.js';
export {
  checkInput,
  checkOutput,
  isInstructionEcho,
  matchLabel,
  qualityOptionsFor,
  standardizeInput,
  standardizeOutput,
  type QualityFilterOptions,
  type RejectionReason,
} from './quality.js';
export {
  buildInputGenerationPrompt,
  buildLabelPrompt,
  parseGeneratedCandidates,
  GENERATED_EXAMPLES_SCHEMA,
  type BuiltPrompt,
  type GeneratedCandidate,
  type InputPromptParts,
  type LabelPromptParts,
} from './prompts.js';
export { splitDatasetFiles, type SplitDatasetFilesOptions, type SplitSource } from './splits.js';
export { answerKey, normalizeText, structuredAnswerKey } from './text.js';

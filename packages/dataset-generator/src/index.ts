export {
  PromptBasedDatasetGenerator,
  createDatasetGenerator,
  progressLogPath,
  type PromptBasedDatasetGeneratorOptions,
  type GenerationSummary,
  type GenerationStopReason,
  type LabelNoiseSummary,
} from './generator.js';
export {
  estimateLabelNoise,
  voteConfidence,
  type AgreementStats,
  type LabelNoiseEstimate,
} from './label-noise.js';
export { answerKeyFor } from './labeller.js';
export {
  linearTemperatureSchedule,
  constantTemperatureSchedule,
  cosineTemperatureSchedule,
  type TemperatureSchedule,
  type GenerationProgress,
} from './temperature.js';
export { selfConsistencyVote, type SelfConsistencyOptions, type SelfConsistencyVote } from './self-consistency.js';
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
export { batchGeneratorOptions } from './batch-mode.js';

/**
 * @prompt2model/dataset-generator: the DatasetGenerator stage. A teacher writes inputs and labels
 * them with self-consistency votes; quality filters, near-duplicate removal and decontamination
 * keep the set clean. Prompt builders, filters and vote helpers are under
 * `@prompt2model/dataset-generator/internal`.
 */
export {
  PromptBasedDatasetGenerator,
  createDatasetGenerator,
  type PromptBasedDatasetGeneratorOptions,
  type GenerationSummary,
  type GenerationStopReason,
  type LabelNoiseSummary,
} from './generator.js';
export {
  linearTemperatureSchedule,
  constantTemperatureSchedule,
  cosineTemperatureSchedule,
  type TemperatureSchedule,
  type GenerationProgress,
} from './temperature.js';
export { selfConsistencyVote, type SelfConsistencyOptions, type SelfConsistencyVote } from './self-consistency.js';
export { batchGeneratorOptions } from './batch-mode.js';

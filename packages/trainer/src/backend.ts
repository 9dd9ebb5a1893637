import type { TrainerBackend, TrainingJobSpec } from '@prompt2model/core';
import type { DataFormatRules } from './data.js';
import type { TrainingPricing } from './estimate.js';

/**
 * A core `TrainerBackend` plus what the trainer needs before dispatch: the data format it accepts
 * and how it charges. See CONTRIBUTING.md ("Add a trainer backend").
 */
export interface TrainingBackend extends TrainerBackend {
  readonly dataRules: DataFormatRules;
  /** How this backend charges for `job`, used for the estimate and the `--max-cost` check. */
  pricing(job: TrainingJobSpec): TrainingPricing;
  /** Backend-specific checks of the job (e.g. whole epochs); throws ValidationError. */
  validateJob?(job: TrainingJobSpec): void;
}

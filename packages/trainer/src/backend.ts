import type { TrainerBackend } from '@prompt2model/core';

/**
 * A training backend: core's `TrainerBackend` (job life cycle, data rules, pricing). Kept under this
 * name for the trainer's callers; backends live in packages that depend on core alone
 * (`@prompt2model/openai`'s fine-tuning backend) or in `src/backends/`. See docs/contributing.
 */
export type TrainingBackend = TrainerBackend;

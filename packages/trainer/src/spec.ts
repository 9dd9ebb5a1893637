import { TrainingJobSpecSchema, ValidationError, type TrainingJobSpec, type TrainingJobSpecInput } from '@prompt2model/core/internal';
import { defaultLoraTargetModules, describeBaseModel } from './architecture.js';

/**
 * Validates a training job before anything is spent and fills what can be known up front: the
 * architecture (from a local config.json or the model id) and the LoRA target modules of that
 * family. Unknown families keep `targetModules` unset; the worker then picks them from the model.
 */
export function parseTrainingJob(input: TrainingJobSpecInput | TrainingJobSpec): TrainingJobSpec {
  const parsed = TrainingJobSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw ValidationError.fromZod('training job spec', parsed.error, 'Fix the listed fields (CLI flags or the training options) and rerun.');
  }
  const job = parsed.data;
  const issues: Array<{ path: string; message: string }> = [];
  if (job.lora.targetModules !== undefined && job.lora.targetModules.length === 0) {
    issues.push({ path: 'lora.targetModules', message: 'must name at least one module, or be left out for the default' });
  }
  if (job.lora.r > 1024) issues.push({ path: 'lora.r', message: 'a LoRA rank above 1024 is almost certainly a mistake' });
  if (job.learningRate >= 1) issues.push({ path: 'learningRate', message: `${job.learningRate} is not a usable learning rate (expected e.g. 3e-4)` });
  if (issues.length > 0) {
    throw new ValidationError({ subject: 'training job spec', issues, hint: 'Fix the listed fields and rerun.' });
  }
  const info = describeBaseModel(job.baseModel, job.architecture);
  const architecture = job.architecture === 'unknown' ? info.architecture : job.architecture;
  const targetModules = job.lora.targetModules ?? defaultLoraTargetModules(job.baseModel, architecture);
  return {
    ...job,
    architecture,
    lora: { ...job.lora, ...(targetModules ? { targetModules } : {}) },
  };
}

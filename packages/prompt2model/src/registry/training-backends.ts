import { ValidationError } from '@prompt2model/core/errors';
import { Registry } from '@prompt2model/core/registry';
import type { OpenAIFineTuningBackendOptions } from '@prompt2model/openai/internal';
import type { CommandBackendOptions, HfJobsBackendOptions, LocalBackendOptions, SkyPilotBackendOptions } from '@prompt2model/trainer/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';

/** Each backend's options; the registry passes the named backend its own. */
export interface TrainingBackendSettings {
  local?: LocalBackendOptions;
  openai?: OpenAIFineTuningBackendOptions;
  command?: Partial<CommandBackendOptions>;
  skypilot?: Partial<SkyPilotBackendOptions>;
  'hf-jobs'?: HfJobsBackendOptions;
}

/**
 * Where training runs, by name (`--backend`). Each entry loads its package on first use, so
 * listing the names (CLI help) costs nothing. Adding a backend: implement core's TrainerBackend in
 * one file, add one entry here (docs/contributing/add-a-trainer-backend.md).
 */
export const trainingBackends = new Registry<Promise<TrainerBackend>, TrainingBackendSettings>('training backend', {
  local: {
    description: 'the Python worker (transformers + peft + accelerate) on this machine',
    factory: async (settings) => new (await import('@prompt2model/trainer/internal')).LocalBackend(settings.local),
  },
  openai: {
    description: 'OpenAI fine-tuning API (managed)',
    factory: async (settings) => (await import('@prompt2model/openai/internal')).createOpenAIFineTuningBackend(settings.openai),
  },
  command: {
    description: 'your own commands for remote GPUs (ssh, Slurm, SkyPilot)',
    factory: async (settings) => {
      const { launch, ...rest } = settings.command ?? {};
      if (!launch) {
        throw new ValidationError({
          subject: 'command training backend',
          issues: [{ path: 'launch', message: 'the command backend needs --launch (the command that starts the worker remotely)' }],
          hint: `Pass --launch, e.g. --launch "ssh gpu 'cd jobs/{jobName} && python -m p2m_worker --config {config}'"`,
        });
      }
      return new (await import('@prompt2model/trainer/internal')).CommandBackend({ launch, ...rest });
    },
  },
  skypilot: {
    description: 'SkyPilot managed job: any cloud, Kubernetes or Slurm, multi-node with torchrun',
    factory: async (settings) => {
      const { bucket, ...rest } = settings.skypilot ?? {};
      if (!bucket) {
        throw new ValidationError({
          subject: 'skypilot training backend',
          issues: [{ path: 'bucket', message: 'the skypilot backend needs --bucket (where the nodes keep checkpoints and the model comes back from)' }],
          hint: 'Pass --bucket s3://my-bucket/prompt2model (or gs://...), a bucket your SkyPilot credentials can write.',
        });
      }
      return new (await import('@prompt2model/trainer/internal')).SkyPilotBackend({ bucket, ...rest });
    },
  },
  'hf-jobs': {
    description: 'Hugging Face Jobs: a GPU by the minute (--flavor), data and model in private Hub repos',
    factory: async (settings) => new (await import('@prompt2model/trainer/internal')).HfJobsBackend(settings['hf-jobs']),
  },
});

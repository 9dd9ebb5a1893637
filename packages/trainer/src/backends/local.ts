import { join } from 'node:path';
import {
  hashValue,
  Prompt2ModelError,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
} from '@prompt2model/core';
import type { TrainingBackend } from '../backend.js';
import { TEXT_DATA_RULES } from '../data.js';
import type { TrainingPricing } from '../estimate.js';
import { collectFromJobFolder, JOB_CONFIG_FILE, prepareJobFolder, readIntactWorkerResult } from '../job-folder.js';
import { PYTHON_INSTALL_HINT, workerEnv } from '../python-path.js';
import { runWorkerProcess } from '../worker-process.js';
import { defaultPython } from '../python-environment.js';

export interface LocalBackendOptions {
  /** Python interpreter with torch, transformers and peft. Default: $P2M_PYTHON, else the managed environment (`prompt2model setup`), else `python3`. */
  python?: string;
  /** `python` (one process), or `accelerate` / `torchrun` to train on several GPUs. Default `python`. */
  launcher?: 'python' | 'accelerate' | 'torchrun';
  /** GPUs to use with accelerate/torchrun; also scales the time estimate. Default 1. */
  gpus?: number;
  /**
   * Replaces the whole worker command (argv); `--config <job.json>` is appended. For a custom
   * worker that speaks the same JSON-lines protocol.
   */
  workerCommand?: string[];
  env?: NodeJS.ProcessEnv;
  /** Price of your GPU time, USD an hour (default 0: your own machine). */
  gpuHourlyUsd?: number;
  /** Assumed throughput for the time estimate, tokens a second per GPU (default 5000). */
  tokensPerSecondPerGpu?: number;
  /** Time the worker gets to save a checkpoint after Ctrl-C (default 60 s). */
  cancelGraceMs?: number;
  /** Folder of the job folders inside the run folder (default `training`); each job gets `<folder>/<job id>`. */
  jobsDir?: string;
}

/** Trains on this machine's GPU(s) with the Python worker (transformers + peft + accelerate). */
export class LocalBackend implements TrainingBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name: string = 'local';
  readonly dataRules = TEXT_DATA_RULES;
  private readonly running = new Map<string, AbortController>();

  constructor(protected readonly options: LocalBackendOptions = {}) {}

  pricing(): TrainingPricing {
    return {
      kind: 'gpu-time',
      gpuHourlyUsd: this.options.gpuHourlyUsd ?? 0,
      tokensPerSecondPerGpu: this.options.tokensPerSecondPerGpu ?? 5000,
      gpus: this.options.gpus ?? 1,
      overheadHours: 2 / 60,
    };
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    // One folder per job: a changed job never picks up another job's checkpoints or result.
    const id = resume?.id ?? `${this.name}-${hashValue(job).slice(0, 12)}`;
    const dir = resume?.dir ?? context.store.path(join(this.options.jobsDir ?? 'training', id));
    // Rewriting job.json and the data is safe on resume: the worker continues from output/ checkpoints.
    await prepareJobFolder(dir, job);
    return { id, backend: this.name, dir };
  }

  async *watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent> {
    const dir = requireDir(handle);
    if (await readIntactWorkerResult(dir)) {
      yield { type: 'done', alreadyFinished: true };
      return;
    }
    const controller = new AbortController();
    this.running.set(handle.id, controller);
    try {
      const [command, ...args] = this.workerArgv();
      const env = workerEnv(this.options.env);
      yield* runWorkerProcess({
        command: command!,
        args: [...args, '--config', JOB_CONFIG_FILE],
        cwd: dir,
        env,
        signal: AbortSignal.any([context.signal, controller.signal]),
        cancelGraceMs: this.options.cancelGraceMs,
        notFoundHint: PYTHON_INSTALL_HINT,
      });
    } finally {
      this.running.delete(handle.id);
    }
  }

  async cancel(handle: TrainingJobHandle): Promise<void> {
    this.running.get(handle.id)?.abort(new Error('cancelled'));
  }

  collect(handle: TrainingJobHandle, job: TrainingJobSpec): Promise<TrainedModel> {
    return collectFromJobFolder(requireDir(handle), job, this.name, handle.id);
  }

  /** The argv that starts the worker, before `--config`. */
  workerArgv(): string[] {
    if (this.options.workerCommand) return [...this.options.workerCommand];
    const python = defaultPython(this.options.python);
    const gpus = String(this.options.gpus ?? 1);
    switch (this.options.launcher ?? 'python') {
      case 'accelerate':
        // Explicit --multi_gpu: without it accelerate may fall back to one process.
        return ['accelerate', 'launch', ...(Number(gpus) > 1 ? ['--multi_gpu'] : []), '--num_processes', gpus, '-m', 'p2m_worker'];
      case 'torchrun':
        return ['torchrun', '--standalone', '--nproc_per_node', gpus, '-m', 'p2m_worker'];
      default:
        return [python, '-m', 'p2m_worker'];
    }
  }
}

function requireDir(handle: TrainingJobHandle): string {
  if (!handle.dir) {
    throw new Prompt2ModelError({ message: `Training job ${handle.id} has no job folder.`, hint: 'Delete training/handle.json in the run folder and rerun.' });
  }
  return handle.dir;
}

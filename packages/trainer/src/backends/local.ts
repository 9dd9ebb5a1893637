import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Prompt2ModelError,
  RUN_FILES,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
} from '@prompt2model/core/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';
import { TEXT_DATA_RULES } from '../data.js';
import type { TrainingPricing } from '../estimate.js';
import { collectFromJobFolder, JOB_CONFIG_FILE, jobHashOf, prepareJobFolder, readIntactWorkerResult, WORKER_PROTOCOL_VERSION } from '../job-folder.js';
import { PYTHON_INSTALL_HINT, resolveModelReference, TRAINING_JOB_SECRETS, workerEnv } from '../python-path.js';
import { runWorkerProcess, type WorkerProcessOptions } from '../worker-process.js';
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
  /**
   * Throughput for the time estimate, tokens a second per GPU. Default: on a machine without a GPU,
   * measured by a short probe of the job's model on the CPU; on a GPU, assumed 5000.
   */
  tokensPerSecondPerGpu?: number;
  /** Probe the device before estimating (which GPU, or the CPU's measured speed). Default true. */
  probe?: boolean;
  /** Time the worker gets to save a checkpoint after Ctrl-C (default 60 s). */
  cancelGraceMs?: number;
  /** Folder of the job folders inside the run folder (default `training`); each job gets `<folder>/<job id>`. */
  jobsDir?: string;
}

/** Trains on this machine's GPU(s) with the Python worker (transformers + peft + accelerate). */
export class LocalBackend implements TrainerBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name: string = 'local';
  readonly dataRules = TEXT_DATA_RULES;
  private readonly running = new Map<string, AbortController>();

  constructor(protected readonly options: LocalBackendOptions = {}) {}

  pricing(): TrainingPricing {
    return this.gpuTimePricing();
  }

  private gpuTimePricing(): Extract<TrainingPricing, { kind: 'gpu-time' }> {
    return {
      kind: 'gpu-time',
      gpuHourlyUsd: this.options.gpuHourlyUsd ?? 0,
      tokensPerSecondPerGpu: this.options.tokensPerSecondPerGpu ?? 5000,
      gpus: this.options.gpus ?? 1,
      overheadHours: 2 / 60,
    };
  }

  /**
   * The estimate's pricing for the device that will train: `python -m p2m_worker.probe` names the
   * GPU (its throughput stays assumed: loading a big model is no cheap probe) or, on a CPU, times a
   * few training steps of the job's model built from its config (random weights, no download) on
   * batches of the data's typical length, with the threads training will use. Off for a custom
   * worker command or launcher, or when the throughput was given.
   */
  async measurePricing(job: TrainingJobSpec, data: { tokensPerExample: number }, context: StageContext): Promise<TrainingPricing> {
    const pricing = this.gpuTimePricing();
    const probe = this.options.probe ?? true;
    if (!probe || this.options.workerCommand || (this.options.launcher ?? 'python') !== 'python' || this.options.tokensPerSecondPerGpu !== undefined) return pricing;
    const dir = await mkdtemp(join(tmpdir(), 'p2m-probe-'));
    try {
      const config = { protocolVersion: WORKER_PROTOCOL_VERSION, job: { ...job, baseModel: resolveModelReference(job.baseModel) }, outputDir: dir };
      await writeFile(join(dir, JOB_CONFIG_FILE), JSON.stringify(config));
      let done: Record<string, unknown> | undefined;
      let failure: string | undefined;
      const timeout = AbortSignal.timeout(45_000);
      try {
        for await (const event of runWorkerProcess({
          command: defaultPython(this.options.python),
          args: ['-m', 'p2m_worker.probe', '--config', join(dir, JOB_CONFIG_FILE), '--tokens-per-example', String(Math.max(4, data.tokensPerExample))],
          cwd: dir,
          // A probe never downloads: a model whose config is not on disk (or in the Hub cache) is not measured.
          env: { ...workerEnv(this.options.env), HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
          signal: AbortSignal.any([context.signal, timeout]),
          label: 'device probe',
          notFoundHint: PYTHON_INSTALL_HINT,
        })) {
          if (event.type === 'done') done = event as unknown as Record<string, unknown>;
          if (event.type === 'error') failure = event.message;
        }
      } catch (error) {
        if (context.signal.aborted) throw error;
        failure = timeout.aborted ? 'the probe took over 45 s' : (error as Error).message;
      }
      if (!done) return { ...pricing, note: `device not probed (${failure ?? 'no answer'}); the time assumes a GPU at ${pricing.tokensPerSecondPerGpu} tokens/s` };
      const device = typeof done.device === 'string' ? done.device : undefined;
      if (typeof done.gpus === 'number' && done.gpus > 0) return { ...pricing, ...(device ? { device } : {}) };
      const measured = typeof done.tokensPerSecond === 'number' && done.tokensPerSecond > 0 ? done.tokensPerSecond : undefined;
      return {
        ...pricing,
        gpus: 1,
        ...(device ? { device } : {}),
        ...(measured ? { tokensPerSecondPerGpu: measured, measured: true } : { note: `no GPU here, and the CPU speed could not be measured (${String(done.reason ?? 'unknown')}); the time assumes ${pricing.tokensPerSecondPerGpu} tokens/s` }),
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    // One folder per job: a changed job never picks up another job's checkpoints or result.
    const id = resume?.id ?? `${this.name}-${jobHashOf(job, context.store.dir).slice(0, 12)}`;
    const dir = resume?.dir ?? context.store.path(join(this.options.jobsDir ?? RUN_FILES.training, id));
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
      const env = workerEnv(this.options.env, TRAINING_JOB_SECRETS);
      yield* runWorkerProcess({
        command: command!,
        args: [...args, '--config', JOB_CONFIG_FILE],
        cwd: dir,
        env,
        signal: AbortSignal.any([context.signal, controller.signal]),
        cancelGraceMs: this.options.cancelGraceMs,
        notFoundHint: PYTHON_INSTALL_HINT,
        ...this.workerProcessOptions(),
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

  /** The worker command can be run, or the Python it uses has torch, transformers and peft. */
  async checkReady(options: { signal?: AbortSignal } = {}): Promise<void> {
    const command = this.options.workerCommand;
    if (command) {
      await access(command[0]!, constants.X_OK).catch(() => {
        throw new Prompt2ModelError({ message: `the worker command ${command[0]} cannot be run.`, hint: 'Fix the worker command (P2M_WORKER_COMMAND), or leave it unset to use Python.' });
      });
      return;
    }
    const python = defaultPython(this.options.python);
    const missing = await new Promise<string | undefined>((resolve) => {
      execFile(
        python,
        ['-c', 'import importlib.util as u, sys; m=[n for n in ("torch","transformers","peft") if u.find_spec(n) is None]; print(",".join(m)); sys.exit(0)'],
        { timeout: 30_000, ...(options.signal ? { signal: options.signal } : {}), env: workerEnv(this.options.env) },
        (error, stdout) => {
          if (error) resolve((error as NodeJS.ErrnoException).code === 'ENOENT' ? `python (${python} was not found)` : `python (${python} failed: ${error.message.split('\n')[0]})`);
          else resolve(stdout.trim() || undefined);
        },
      );
    });
    if (missing) {
      throw new Prompt2ModelError({
        message: `local training cannot start: ${missing.startsWith('python') ? missing : `${python} lacks ${missing}`}.`,
        hint: `${PYTHON_INSTALL_HINT} Or skip training to stop after data generation.`,
      });
    }
  }

  /** How the worker process is run, for a backend that starts another runner (label, how Ctrl-C reaches it). */
  protected workerProcessOptions(): Partial<WorkerProcessOptions> {
    return {};
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

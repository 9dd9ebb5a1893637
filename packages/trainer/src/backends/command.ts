import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import {
  AbortError,
  Prompt2ModelError,
  RUN_FILES,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
  childProcessEnvironment,
} from '@prompt2model/core/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';
import { TEXT_DATA_RULES } from '../data.js';
import type { TrainingPricing } from '../estimate.js';
import { collectFromJobFolder, JOB_CONFIG_FILE, jobHashOf, prepareJobFolder } from '../job-folder.js';
import { TRAINING_JOB_SECRETS, workerPythonDir } from '../python-path.js';
import { runWorkerProcess } from '../worker-process.js';

/**
 * Shell command templates. Placeholders (shell-quoted when substituted):
 *   {jobDir}      local job folder (job.json, data/, output/)
 *   {jobName}     a stable name for the job (use it for the remote folder)
 *   {config}      job.json, relative to the job folder
 *   {workerDir}   local folder of the p2m_worker Python package (sync it along)
 *   {remoteJobId} the remote scheduler's job id, once known
 */
export interface CommandBackendOptions {
  /** Starts the worker remotely; its stdout carries the worker's JSON-lines events. */
  launch: string;
  /** Re-attaches to a running remote job after a restart (e.g. `ssh gpu tail -n +1 -F .../events.jsonl`). */
  attach?: string;
  /** Stops the remote job (e.g. `scancel {remoteJobId}`); without it, Ctrl-C only stops watching. */
  cancel?: string;
  /** Copies the job folder (and worker) to the remote machine before launch. */
  syncUp?: string;
  /** Copies the remote output/ back into {jobDir}/output after the job is done. */
  syncDown?: string;
  /** Finds the remote job id in launch output lines; default matches Slurm's "Submitted batch job N". */
  jobIdPattern?: RegExp;
  /** USD per GPU-hour of the remote machine (default 2). */
  gpuHourlyUsd?: number;
  tokensPerSecondPerGpu?: number;
  gpus?: number;
  cancelGraceMs?: number;
  /** Folder of the job folders inside the run folder (default `training`). */
  jobsDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Trains on a remote GPU (ssh, Slurm, SkyPilot, ...) through user-supplied commands. */
export class CommandBackend implements TrainerBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'command';
  readonly dataRules = TEXT_DATA_RULES;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly options: CommandBackendOptions) {
    if (!options.launch || options.launch.trim() === '') {
      throw new Prompt2ModelError({ message: 'The command backend needs a launch command.', hint: 'Pass `launch`, e.g. "ssh gpu \'cd {jobName} && python -m p2m_worker --config job.json\'".' });
    }
  }

  pricing(): TrainingPricing {
    return {
      kind: 'gpu-time',
      gpuHourlyUsd: this.options.gpuHourlyUsd ?? 2,
      tokensPerSecondPerGpu: this.options.tokensPerSecondPerGpu ?? 5000,
      gpus: this.options.gpus ?? 1,
      overheadHours: 5 / 60,
    };
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    const id = resume?.id ?? `p2m-${jobHashOf(job, context.store.dir).slice(0, 12)}`;
    const dir = resume?.dir ?? context.store.path(join(this.options.jobsDir ?? RUN_FILES.training, id));
    const handle: TrainingJobHandle = { ...resume, id, backend: this.name, dir };
    // A job still running remotely is re-attached, not re-launched; its folder is left alone.
    if (typeof handle.remoteJobId === 'string' && this.options.attach) return handle;
    await prepareJobFolder(dir, job);
    if (this.options.syncUp) await this.runOnce(this.options.syncUp, handle, context.signal, 'sync up');
    return handle;
  }

  async *watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent> {
    const attaching = typeof handle.remoteJobId === 'string' && this.options.attach !== undefined;
    const template = attaching ? this.options.attach! : this.options.launch;
    const pattern = this.options.jobIdPattern ?? /Submitted batch job (\d+)/;
    const controller = new AbortController();
    this.running.set(handle.id, controller);
    try {
      const stream = runWorkerProcess({
        command: this.expand(template, handle),
        shell: true,
        cwd: handle.dir,
        env: childProcessEnvironment(this.options.env, { keep: TRAINING_JOB_SECRETS }),
        signal: AbortSignal.any([context.signal, controller.signal]),
        cancelGraceMs: this.options.cancelGraceMs,
      });
      for await (const event of stream) {
        if (event.type === 'log' && handle.remoteJobId === undefined) {
          const match = pattern.exec(event.message);
          if (match?.[1]) {
            yield { ...event, remoteJobId: match[1] };
            continue;
          }
        }
        yield event;
      }
    } catch (error) {
      if (AbortError.isInstance(error) && this.options.cancel && typeof handle.remoteJobId === 'string') {
        await this.runOnce(this.options.cancel, handle, undefined, 'cancel');
        // The remote job is gone: the next run launches again and resumes from its checkpoint.
        delete handle.remoteJobId;
      }
      throw error;
    } finally {
      this.running.delete(handle.id);
    }
  }

  async cancel(handle: TrainingJobHandle): Promise<void> {
    this.running.get(handle.id)?.abort(new Error('cancelled'));
  }

  async collect(handle: TrainingJobHandle, job: TrainingJobSpec, context: StageContext): Promise<TrainedModel> {
    if (this.options.syncDown) await this.runOnce(this.options.syncDown, handle, context.signal, 'sync down');
    return collectFromJobFolder(handle.dir!, job, this.name, typeof handle.remoteJobId === 'string' ? handle.remoteJobId : handle.id);
  }

  /** Substitutes placeholders, shell-quoting each value. */
  expand(template: string, handle: TrainingJobHandle): string {
    const values: Record<string, string> = {
      jobDir: handle.dir ?? '',
      jobName: handle.id,
      config: JOB_CONFIG_FILE,
      workerDir: workerPythonDir(),
      remoteJobId: typeof handle.remoteJobId === 'string' ? handle.remoteJobId : '',
      jobDirName: basename(handle.dir ?? ''),
    };
    return template.replace(/\{(\w+)\}/g, (match, key: string) => (key in values ? shellQuote(values[key]!) : match));
  }

  private runOnce(template: string, handle: TrainingJobHandle, signal: AbortSignal | undefined, what: string): Promise<void> {
    const command = this.expand(template, handle);
    return new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, cwd: handle.dir, env: childProcessEnvironment(this.options.env, { keep: TRAINING_JOB_SECRETS }), stdio: ['ignore', 'ignore', 'pipe'], signal });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      child.on('error', (error) => reject(signal?.aborted ? new AbortError(undefined, signal.reason) : error));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else {
          reject(
            new Prompt2ModelError({
              message: `The ${what} command failed (exit code ${code}): ${command}${stderr ? `\n${stderr.trim()}` : ''}`,
              hint: `Run the ${what} command by hand to see what is wrong.`,
            }),
          );
        }
      });
    });
  }
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

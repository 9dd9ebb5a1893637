import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AbortError,
  childProcessEnvironment,
  hashValue,
  InvalidArgumentError,
  JOB_FILES,
  Prompt2ModelError,
  RUN_FILES,
  sleep,
  type StageContext,
  type TrainedModel,
  type TrainerBackend,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
  type TrainingPricing,
} from '@prompt2model/core/internal';
import { TEXT_DATA_RULES } from '../../data.js';
import { parseEventLine } from '../../events.js';
import { collectFromJobFolder, jobHashOf, prepareJobFolder } from '../../job-folder.js';
import { workerPythonDir } from '../../python-path.js';
import { runWorkerProcess } from '../../worker-process.js';
import { downloadArgv, isSupportedBucket } from './bucket.js';
import {
  isTerminal,
  parseDryRunQuote,
  parseJobsQueue,
  parseManagedJobId,
  runCommand,
  runSky,
  skyCheckProblem,
  skyFailed,
  stripAnsi,
  type ManagedJobStatus,
} from './sky-cli.js';
import { buildSkyPilotTask, joinUri, pricingTask, renderTaskYaml, type SkyPilotTask } from './task.js';

export interface SkyPilotBackendOptions {
  /**
   * Bucket the job's output lives in (`s3://bucket/prefix` or `gs://bucket/prefix`): mounted on
   * every node, it keeps the checkpoints across recoveries, and the model comes back from it.
   */
  bucket: string;
  /** Accelerators per node, SkyPilot's `NAME:COUNT` (`A10G:1`, `H100:8`); absent: CPU nodes. */
  accelerators?: string;
  /** Nodes (machines) to train on with torchrun. Default 1. */
  nodes?: number;
  /** Where to run: SkyPilot's `infra` (`aws`, `gcp/us-central1`, `k8s`, `k8s/my-context`); default any enabled. */
  infra?: string;
  /** Spot instances (the managed job recovers from preemptions, resuming from the last checkpoint). */
  useSpot?: boolean;
  /** Replaces the setup that installs the pinned training stack (e.g. `""` for an image that has it). */
  setup?: string;
  /** The `sky` executable. Default `sky` (on PATH). */
  sky?: string;
  /** Environment of the sky/aws/gcloud commands (credentials, PATH); API keys are left out. */
  env?: NodeJS.ProcessEnv;
  /** USD per GPU-hour, instead of SkyPilot's dry-run price. */
  gpuHourlyUsd?: number;
  /** Training throughput for the time estimate, tokens a second per GPU (default 5000). */
  tokensPerSecondPerGpu?: number;
  /**
   * Ctrl-C: cancel the managed job too (true), or stop watching and leave it running for the next
   * run to re-attach (false, the default). A function decides then (the CLI asks on a terminal).
   */
  cancelOnAbort?: boolean | ((jobId: string) => Promise<boolean>);
  /** How long to wait before following the logs again when they end while the job still runs (default 15 s). */
  pollIntervalMs?: number;
  /** Folder of the job folders inside the run folder (default `training`). */
  jobsDir?: string;
}

/** Provisioning, setup (installing the stack) and the download, added to the training time. */
const OVERHEAD_HOURS = 15 / 60;

/**
 * Trains on any cloud, Kubernetes or Slurm through SkyPilot: writes a task YAML (the job folder as
 * workdir, the worker package and the output bucket as file mounts, torchrun over `num_nodes`),
 * launches it as a managed job (`sky jobs launch -d`), follows `sky jobs logs` (the worker's
 * protocol lines drive progress), cancels with `sky jobs cancel`, re-attaches on rerun (the job id
 * is in the handle; a job of the same name still alive is adopted, never launched twice) and copies
 * the model back from the bucket.
 */
export class SkyPilotBackend implements TrainerBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'skypilot';
  readonly dataRules = TEXT_DATA_RULES;
  private readonly nodes: number;

  constructor(private readonly options: SkyPilotBackendOptions) {
    if (!options.bucket || !isSupportedBucket(options.bucket)) {
      throw new InvalidArgumentError({
        argument: 'bucket',
        message: `the skypilot backend needs a bucket for the job's output (s3://bucket/prefix or gs://bucket/prefix)${options.bucket ? `, not "${options.bucket}"` : ''}`,
        hint: 'Pass bucket, e.g. s3://my-bucket/prompt2model (create it first; the nodes mount it and the model is copied back from it).',
      });
    }
    if (options.accelerators !== undefined && !/^[A-Za-z0-9_-]+(:\d+(\.\d+)?)?$/.test(options.accelerators)) {
      throw new InvalidArgumentError({ argument: 'accelerators', message: `accelerators must be NAME or NAME:COUNT (e.g. A10G:1), not "${options.accelerators}"` });
    }
    this.nodes = options.nodes ?? 1;
    if (!Number.isInteger(this.nodes) || this.nodes < 1) throw new InvalidArgumentError({ argument: 'nodes', message: 'nodes must be a whole number of at least 1' });
  }

  private get sky(): string {
    return this.options.sky ?? 'sky';
  }

  private get env(): NodeJS.ProcessEnv {
    return childProcessEnvironment(this.options.env);
  }

  /** Accelerators a node has (0 for CPU nodes). */
  private get gpusPerNode(): number {
    const count = this.options.accelerators?.split(':')[1];
    return this.options.accelerators ? (count ? Number(count) : 1) : 0;
  }

  /**
   * The managed job's name (and its folder in the bucket): the job and the run folder it belongs
   * to, so two run folders training the same job never share checkpoints; recorded in the handle,
   * so a moved run folder keeps it.
   */
  jobName(job: TrainingJobSpec, runDir: string): string {
    return `p2m-${hashValue({ job: jobHashOf(job, runDir), runDir: resolve(runDir) }).slice(0, 12)}`;
  }

  /**
   * The job's folder in the bucket: one per machine shape (`2xA10G-1`), so checkpoints are only
   * resumed by the world size that wrote them (an optimizer state does not carry over to another).
   */
  outputUri(name: string): string {
    const shape = `${this.nodes}x${(this.options.accelerators ?? 'cpu').replace(/[^A-Za-z0-9.]+/g, '-')}`;
    return joinUri(this.options.bucket, `${name}/${shape}`);
  }

  /** The task for a job folder. */
  task(name: string, jobDir: string, outputUri: string = this.outputUri(name)): SkyPilotTask {
    return buildSkyPilotTask({
      name,
      jobDir,
      workerDir: workerPythonDir(),
      outputUri,
      nodes: this.nodes,
      ...(this.options.accelerators ? { accelerators: this.options.accelerators } : {}),
      ...(this.options.infra ? { infra: this.options.infra } : {}),
      ...(this.options.useSpot ? { useSpot: true } : {}),
      ...(this.options.setup !== undefined ? { setup: this.options.setup } : {}),
    });
  }

  /** The price given (`gpuHourlyUsd`), else none until SkyPilot quotes it (`measurePricing`). */
  pricing(): Extract<TrainingPricing, { kind: 'gpu-time' }> {
    return {
      kind: 'gpu-time',
      gpuHourlyUsd: this.options.gpuHourlyUsd ?? 0,
      tokensPerSecondPerGpu: this.options.tokensPerSecondPerGpu ?? 5000,
      gpus: this.nodes * Math.max(1, this.gpusPerNode),
      overheadHours: OVERHEAD_HOURS,
      device: this.deviceName(),
      ...(this.options.gpuHourlyUsd === undefined ? { note: "no price yet: SkyPilot's dry run quotes it (measurePricing)" } : {}),
    };
  }

  /** What trains, for the estimate and the report: `A10G (2 nodes on AWS (us-east-1), g5.xlarge)`. */
  private deviceName(where?: { infra: string; instance: string }): string {
    const accelerator = this.options.accelerators?.split(':')[0] ?? 'cpu';
    const nodes = `${this.nodes} node${this.nodes === 1 ? '' : 's'}`;
    return `${accelerator} (${nodes}${where ? ` on ${where.infra}, ${where.instance}` : ''}, via SkyPilot)`;
  }

  /** The quote: SkyPilot's own optimizer prices the task's resources (`sky launch --dryrun`), an hour of all its nodes. */
  async measurePricing(job: TrainingJobSpec, _data: { tokensPerExample: number }, context: StageContext): Promise<TrainingPricing> {
    const base = this.pricing();
    if (this.options.gpuHourlyUsd !== undefined) return base;
    const dir = await mkdtemp(join(tmpdir(), 'p2m-sky-quote-'));
    try {
      const path = join(dir, 'task.yaml');
      await writeFile(path, renderTaskYaml(pricingTask(this.task(this.jobName(job, context.store.dir), dir))));
      const args = ['launch', '--dryrun', '-y', path];
      const result = await runSky(this.sky, args, { env: this.env, signal: context.signal });
      const quote = result.code === 0 ? parseDryRunQuote(`${result.stdout}\n${result.stderr}`) : undefined;
      if (!quote) {
        // The optimizer found nothing to run it on (no cloud enabled, an unknown accelerator): the request is what to fix.
        if (result.code !== 0) throw skyFailed('pricing the task', args, result, 'configuration');
        throw new Prompt2ModelError({
          message: `SkyPilot's dry run printed no chosen resources to price:\n${stripAnsi(result.stdout).trim().split('\n').slice(-8).join('\n')}`,
          hint: 'Check the accelerators and cloud with `sky launch --dryrun`, or give the price per GPU-hour yourself.',
        });
      }
      return { ...base, gpuHourlyUsd: quote.hourlyUsd / base.gpus, device: this.deviceName(quote), note: `SkyPilot's price for the ${this.nodes === 1 ? 'node' : `${this.nodes} nodes`}: $${quote.hourlyUsd}/h` };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** `sky` runs and SkyPilot has credentials for a cloud (the one asked for), and the bucket's CLI is there. */
  async checkReady(options: { signal?: AbortSignal } = {}): Promise<void> {
    const args = ['check', ...(this.options.infra && this.options.infra !== '*' ? [this.options.infra.split('/')[0]!] : [])];
    const result = await runSky(this.sky, args, { env: this.env, ...(options.signal ? { signal: options.signal } : {}) });
    const problem = result.code !== 0 ? `sky check failed (exit code ${result.code})` : skyCheckProblem(`${result.stdout}\n${result.stderr}`, this.options.infra);
    if (problem) {
      throw new Prompt2ModelError({
        message: `SkyPilot cannot launch: ${problem}.`,
        hint: `Run \`sky ${args.join(' ')}\` and follow its hints to add credentials (or pick another cloud).`,
        exitCategory: 'configuration',
      });
    }
    const [tool] = downloadArgv(this.options.bucket, '.');
    await runCommand(tool!, ['--version'], { env: this.env, ...(options.signal ? { signal: options.signal } : {}) }, (cause) =>
      new Prompt2ModelError({
        message: `The model comes back from ${this.options.bucket} with the ${tool} command, which is not installed.`,
        hint: tool === 'aws' ? 'pip install awscli (SkyPilot\'s aws extra brings it).' : 'Install the Google Cloud CLI (gcloud).',
        exitCategory: 'configuration',
        cause,
      }),
    );
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    const id = resume?.id ?? this.jobName(job, context.store.dir);
    const dir = resume?.dir ?? context.store.path(join(this.options.jobsDir ?? RUN_FILES.training, id));
    // A job re-attached to keeps the bucket folder it was launched with.
    const handle: TrainingJobHandle = { ...resume, id, backend: this.name, dir, bucket: typeof resume?.bucket === 'string' ? resume.bucket : this.outputUri(id) };
    const queue = await this.queue(context.signal);
    const known = typeof handle.remoteJobId === 'string' ? queue.find((row) => row.id === handle.remoteJobId) : undefined;
    if (known && (!isTerminal(known.status) || known.status === 'SUCCEEDED')) {
      context.events.log('info', `Re-attaching to SkyPilot managed job ${known.id} (${known.status}).`, 'train');
      return handle;
    }
    if (known) context.events.log('warn', `SkyPilot managed job ${known.id} is ${known.status}; launching again (training resumes from the checkpoints in the bucket).`, 'train');
    // Launched by a run that was killed before it saved the id: adopt it, never launch a second one.
    const orphan = queue.find((row) => row.cells.includes(id) && !isTerminal(row.status));
    if (orphan) {
      context.events.log('info', `Re-attaching to SkyPilot managed job ${orphan.id} (${orphan.status}), launched earlier for this job.`, 'train');
      return { ...handle, remoteJobId: orphan.id };
    }
    delete handle.remoteJobId;
    handle.bucket = this.outputUri(id);
    await this.checkReady({ signal: context.signal });
    await prepareJobFolder(dir, job);
    const taskPath = join(dir, JOB_FILES.skypilotTask);
    await writeFile(taskPath, renderTaskYaml(this.task(id, dir, handle.bucket as string)));
    // Secrets go by name: sky reads their values from its own environment, they are never in the YAML.
    const launchEnv = childProcessEnvironment(this.options.env, { keep: ['HF_TOKEN'] });
    const secrets = launchEnv.HF_TOKEN ? ['--secret', 'HF_TOKEN'] : [];
    const args = ['jobs', 'launch', '-n', id, '-y', '-d', ...secrets, taskPath];
    const result = await runSky(this.sky, args, { env: launchEnv, signal: context.signal, cwd: dir });
    const remoteJobId = result.code === 0 ? parseManagedJobId(`${result.stdout}\n${result.stderr}`) : undefined;
    if (!remoteJobId) throw skyFailed('launching the managed job', args, result);
    context.events.log('info', `Launched SkyPilot managed job ${remoteJobId} (${this.options.accelerators ?? 'cpu'}${this.nodes > 1 ? ` × ${this.nodes} nodes` : ''}); follow it with: sky jobs logs ${remoteJobId}`, 'train');
    return { ...handle, remoteJobId };
  }

  async *watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent> {
    const jobId = requireJobId(handle);
    yield { type: 'log', level: 'info', message: `Following SkyPilot managed job ${jobId}.`, remoteJobId: jobId };
    // A re-followed log starts over: lines already seen are not reported twice.
    const seen = new Set<string>();
    try {
      for (;;) {
        const stream = runWorkerProcess({
          command: this.sky,
          args: ['jobs', 'logs', jobId],
          env: this.env,
          signal: context.signal,
          cancelGraceMs: 5_000,
          label: 'SkyPilot log follower',
          notFoundHint: 'Install SkyPilot: pip install "skypilot[aws]"',
          cancelledMessage: `Stopped following SkyPilot managed job ${jobId}.`,
          reportIncomplete: false,
          parseLine: (line) => {
            const text = stripNodePrefix(stripAnsi(line));
            if (seen.has(text)) return undefined;
            seen.add(text);
            return parseEventLine(text);
          },
        });
        for await (const event of stream) {
          yield event;
          if (event.type === 'done' || event.type === 'error') return;
        }
        const status = (await this.queue(context.signal)).find((row) => row.id === jobId)?.status;
        if (status === 'SUCCEEDED') {
          yield { type: 'done', remoteStatus: status };
          return;
        }
        if (status === undefined || isTerminal(status)) {
          yield failure(jobId, status);
          return;
        }
        // Still provisioning or recovering from a preemption: its log goes on on the next machine.
        yield { type: 'log', level: 'info', message: `SkyPilot managed job ${jobId} is ${status}.`, remoteStatus: status };
        await sleep(this.options.pollIntervalMs ?? 15_000, context.signal);
      }
    } catch (error) {
      if (!(AbortError.isInstance(error) || context.signal.aborted)) throw error;
      const decide = this.options.cancelOnAbort;
      const cancel = typeof decide === 'function' ? await decide(jobId).catch(() => false) : decide === true;
      if (cancel) {
        await this.cancel(handle);
        // The job is gone: the next run launches again and resumes from the bucket's checkpoints.
        delete handle.remoteJobId;
        throw new AbortError(`Cancelled SkyPilot managed job ${jobId}; its checkpoints stay in ${String(handle.bucket ?? this.options.bucket)}.`, error);
      }
      throw new AbortError(`Stopped following SkyPilot managed job ${jobId}; it keeps running (stop it with: sky jobs cancel -y ${jobId}). Rerun the same command to re-attach.`, error);
    }
  }

  async cancel(handle: TrainingJobHandle): Promise<void> {
    if (typeof handle.remoteJobId !== 'string') return;
    const args = ['jobs', 'cancel', '-y', handle.remoteJobId];
    const result = await runSky(this.sky, args, { env: this.env });
    if (result.code !== 0) throw skyFailed('cancelling the managed job', args, result);
  }

  /** Copies the model (not the checkpoints) from the bucket into the job folder's output/, then reads it like a local job. */
  async collect(handle: TrainingJobHandle, job: TrainingJobSpec, context: StageContext): Promise<TrainedModel> {
    const dir = handle.dir!;
    const uri = typeof handle.bucket === 'string' ? handle.bucket : this.outputUri(handle.id);
    const [command, ...args] = downloadArgv(uri, join(dir, JOB_FILES.output));
    context.events.log('info', `Downloading the trained model from ${uri}.`, 'train');
    const result = await runCommand(command!, args, { env: this.env, signal: context.signal }, (cause) =>
      new Prompt2ModelError({ message: `Cannot download the model from ${uri}: ${command} is not installed.`, hint: `Install it and rerun the same command (the model waits in ${uri}).`, exitCategory: 'configuration', cause }),
    );
    if (result.code !== 0) {
      throw new Prompt2ModelError({
        message: `Downloading the model from ${uri} failed (exit code ${result.code}): ${stripAnsi(result.stderr).trim().split('\n').slice(-5).join('\n')}`,
        hint: `Rerun the same command to try again (the model waits in ${uri}).`,
      });
    }
    const model = await collectFromJobFolder(dir, job, this.name, typeof handle.remoteJobId === 'string' ? handle.remoteJobId : handle.id);
    return { ...model, metrics: { ...model.metrics, nodes: this.nodes, gpusPerNode: this.gpusPerNode } };
  }

  private async queue(signal: AbortSignal): Promise<Array<{ id: string; cells: string[]; status: ManagedJobStatus }>> {
    const args = ['jobs', 'queue'];
    const result = await runSky(this.sky, args, { env: this.env, signal });
    if (result.code !== 0) throw skyFailed('listing managed jobs', args, result);
    return parseJobsQueue(result.stdout);
  }
}

/** SkyPilot prefixes each line of a job's log with its source: `(setup pid=N)`, `(task, pid=N)`, `(head, rank=0, pid=N)`. */
export function stripNodePrefix(line: string): string {
  return line.replace(/^\s*\([^()]*pid=\d+[^()]*\)\s?/, '');
}

function requireJobId(handle: TrainingJobHandle): string {
  if (typeof handle.remoteJobId !== 'string') {
    throw new Prompt2ModelError({ message: `Training job ${handle.id} has no SkyPilot managed job id.`, hint: 'Rerun the same command: it launches the job (or adopts the one running under its name).' });
  }
  return handle.remoteJobId;
}

function failure(jobId: string, status: ManagedJobStatus | undefined): TrainingEvent {
  const hints: Partial<Record<ManagedJobStatus, string>> = {
    FAILED_SETUP: 'The setup (installing the training stack) failed: see `sky jobs logs ' + jobId + '`.',
    FAILED_NO_RESOURCE: 'No cloud had the resources: try other accelerators or clouds (`sky show-gpus`), or spot off.',
    FAILED_PRECHECKS: 'SkyPilot refused the task: run `sky check`, and check the accelerators with `sky show-gpus`.',
    CANCELLED: 'The job was cancelled; rerun the same command to launch it again (it resumes from the bucket\'s checkpoints).',
  };
  return {
    type: 'error',
    message: status ? `SkyPilot managed job ${jobId} ended ${status}` : `SkyPilot managed job ${jobId} is not in \`sky jobs queue\``,
    hint: (status && hints[status]) ?? `See \`sky jobs logs ${jobId}\` (and \`sky jobs logs --controller ${jobId}\`); rerun the same command to launch again from the last checkpoint.`,
  };
}

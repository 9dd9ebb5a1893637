import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { Prompt2ModelError, type StageContext, type TrainingJobSpec } from '@prompt2model/core/internal';
import type { TrainingPricing } from '../estimate.js';
import { workerEnv } from '../python-path.js';
import { defaultPython } from '../python-environment.js';
import type { WorkerProcessOptions } from '../worker-process.js';
import { LocalBackend, type LocalBackendOptions } from './local.js';

type GpuTimePricing = Extract<TrainingPricing, { kind: 'gpu-time' }>;

export interface RayBackendOptions extends Pick<LocalBackendOptions, 'python' | 'env' | 'cancelGraceMs' | 'jobsDir' | 'probe'> {
  /** Ray Train workers (data-parallel training processes). Default 2. */
  workers?: number;
  /** GPUs per worker; 0 trains on CPUs with the gloo backend. Default 0. */
  gpusPerWorker?: number;
  /** CPUs per worker. Default 1. */
  cpusPerWorker?: number;
  /**
   * The cluster to run on: `auto` (the cluster this machine belongs to), `ray://head:10001` (Ray
   * Client) or `head:6379`. Default: a local cluster started for the job and stopped after it.
   */
  address?: string;
  /**
   * Where Ray Train keeps the job's checkpoints: a folder every node can reach (NFS) or a bucket
   * (`s3://...`, `gs://...`). Default: `output/ray` in the job folder (right for a local cluster).
   */
  storage?: string;
  /** USD an hour for one GPU of the cluster (with GPUs) or one worker (CPU workers). Default 0. */
  gpuHourlyUsd?: number;
  /** Training throughput per worker, tokens a second, for the estimate. */
  tokensPerSecondPerGpu?: number;
}

/** The Python package Ray Train needs, as the managed environment names it (`prompt2model setup --with ray`). */
export const RAY_SETUP_HINT = 'Run `prompt2model setup --with ray` (it adds the pinned Ray to the managed Python environment), or `pip install -r packages/trainer/python/requirements-ray.txt` into your own.';

/**
 * Trains under Ray Train (`TorchTrainer`, the Hugging Face Trainer inside) on several workers of a
 * Ray cluster: one you name, or a local one started for the job. The job folder, resume, events,
 * export and predict are the local backend's; only the runner differs (`p2m_worker.ray_train`).
 */
export class RayBackend extends LocalBackend {
  override readonly name: string = 'ray';
  private readonly ray: Required<Pick<RayBackendOptions, 'workers' | 'gpusPerWorker' | 'cpusPerWorker'>> & Pick<RayBackendOptions, 'address' | 'storage'>;

  constructor(private readonly rayOptions: RayBackendOptions = {}) {
    super({
      ...(rayOptions.python ? { python: rayOptions.python } : {}),
      ...(rayOptions.env ? { env: rayOptions.env } : {}),
      ...(rayOptions.cancelGraceMs !== undefined ? { cancelGraceMs: rayOptions.cancelGraceMs } : {}),
      ...(rayOptions.jobsDir ? { jobsDir: rayOptions.jobsDir } : {}),
      ...(rayOptions.probe !== undefined ? { probe: rayOptions.probe } : {}),
      ...(rayOptions.gpuHourlyUsd !== undefined ? { gpuHourlyUsd: rayOptions.gpuHourlyUsd } : {}),
      ...(rayOptions.tokensPerSecondPerGpu !== undefined ? { tokensPerSecondPerGpu: rayOptions.tokensPerSecondPerGpu } : {}),
    });
    const workers = rayOptions.workers ?? 2;
    const gpusPerWorker = rayOptions.gpusPerWorker ?? 0;
    const cpusPerWorker = rayOptions.cpusPerWorker ?? 1;
    const problems = [
      ...(!Number.isInteger(workers) || workers < 1 ? [`workers must be a whole number of at least 1 (got ${workers})`] : []),
      ...(!(gpusPerWorker >= 0) ? [`GPUs per worker must be 0 or more (got ${gpusPerWorker})`] : []),
      ...(!(cpusPerWorker > 0) ? [`CPUs per worker must be more than 0 (got ${cpusPerWorker})`] : []),
    ];
    if (problems.length > 0) throw new Prompt2ModelError({ message: `Invalid Ray settings: ${problems.join('; ')}.`, hint: 'Fix the Ray settings (workers, GPUs and CPUs per worker).', exitCategory: 'configuration' });
    this.ray = { workers, gpusPerWorker, cpusPerWorker, ...(rayOptions.address ? { address: rayOptions.address } : {}), ...(rayOptions.storage ? { storage: rayOptions.storage } : {}) };
  }

  /** Where the job runs, in words (the estimate and the report say it). */
  describeCluster(): string {
    const { workers, gpusPerWorker, cpusPerWorker, address } = this.ray;
    const each = gpusPerWorker > 0 ? `${gpusPerWorker} GPU` : `${cpusPerWorker} CPU`;
    return `${address ? `the Ray cluster at ${address}` : 'a local Ray cluster started for the job'}: ${workers} worker${workers === 1 ? '' : 's'} × ${each}`;
  }

  /** GPU-time over every worker's device: GPUs when the workers have them, else one per worker. */
  override pricing(): GpuTimePricing {
    const { workers, gpusPerWorker, cpusPerWorker } = this.ray;
    const gpu = gpusPerWorker > 0;
    return {
      kind: 'gpu-time',
      gpuHourlyUsd: this.rayOptions.gpuHourlyUsd ?? 0,
      tokensPerSecondPerGpu: this.rayOptions.tokensPerSecondPerGpu ?? (gpu ? 5000 : 500),
      gpus: gpu ? Math.max(1, Math.round(workers * gpusPerWorker)) : workers,
      // Starting the cluster and a Python process per worker, before the first step.
      overheadHours: 3 / 60,
      device: gpu ? `GPU (Ray worker, ${gpusPerWorker} GPU)` : `Ray worker (${cpusPerWorker} CPU)`,
      note: `runs on ${this.describeCluster()}`,
    };
  }

  /**
   * On a local cluster of CPU workers, the worker's speed is measured like the local backend's
   * (a few steps of the job's model on this machine's CPU, one worker's threads); a named cluster
   * or GPU workers keep the stated throughput.
   */
  override async measurePricing(job: TrainingJobSpec, data: { tokensPerExample: number }, context: StageContext): Promise<TrainingPricing> {
    const pricing = this.pricing();
    if (this.ray.address || this.ray.gpusPerWorker > 0 || this.rayOptions.tokensPerSecondPerGpu !== undefined || this.rayOptions.probe === false) return pricing;
    const measured = await super.measurePricing(job, data, context);
    if (measured.kind !== 'gpu-time' || !measured.measured) return { ...pricing, note: `${pricing.note}; ${measured.kind === 'gpu-time' && measured.note ? measured.note : 'speed not measured'}` };
    return { ...pricing, tokensPerSecondPerGpu: measured.tokensPerSecondPerGpu, measured: true, note: `${pricing.note}; the speed was measured for one worker on this machine` };
  }

  /** The local backend's checks (Python with torch, transformers, peft), then Ray, then the cluster's address. */
  override async checkReady(options: { signal?: AbortSignal } = {}): Promise<void> {
    await super.checkReady(options);
    const python = defaultPython(this.rayOptions.python);
    // One interpreter call: is Ray Train there, and which cluster does `auto` mean (Ray's own
    // lookup: RAY_ADDRESS, then the cluster `ray start` recorded on this machine).
    const answer = await new Promise<string>((done) => {
      execFile(
        python,
        ['-c', RAY_PROBE, this.ray.address ?? ''],
        { timeout: 60_000, ...(options.signal ? { signal: options.signal } : {}), env: workerEnv(this.rayOptions.env) },
        (error, stdout) => done(error ? `error:cannot run ${python}: ${error.message.split('\n')[0]}` : stdout.trim().split('\n').at(-1) ?? ''),
      );
    });
    if (answer === 'missing' || answer.startsWith('error:')) {
      throw new Prompt2ModelError({
        message: answer === 'missing' ? `Ray Train is not installed in ${python}.` : `Ray training cannot start: ${answer.slice('error:'.length)}.`,
        hint: RAY_SETUP_HINT,
        exitCategory: 'configuration',
      });
    }
    if (answer.startsWith('noauto:')) {
      throw new Prompt2ModelError({
        message: 'No running Ray cluster was found on this machine (the address is auto).',
        hint: "Start a cluster here (Ray's `ray start` command), give the head node's address (ray://<head>:10001), or leave the address out to start a local cluster for the job.",
        exitCategory: 'configuration',
      });
    }
    await checkRayAddress(answer.startsWith('address:') ? answer.slice('address:'.length) : this.ray.address, options.signal);
  }

  protected override workerProcessOptions(): Partial<WorkerProcessOptions> {
    // The driver's process group holds the local cluster it started: Ctrl-C goes to the driver
    // alone, which has the workers checkpoint, then stops the cluster itself.
    return { interruptLeaderOnly: true, label: 'Ray Train driver' };
  }

  override workerArgv(): string[] {
    const { workers, gpusPerWorker, cpusPerWorker, address, storage } = this.ray;
    return [
      defaultPython(this.rayOptions.python),
      '-m',
      'p2m_worker.ray_train',
      '--workers',
      String(workers),
      '--gpus-per-worker',
      String(gpusPerWorker),
      '--cpus-per-worker',
      String(cpusPerWorker),
      ...(address ? ['--address', address] : []),
      // The driver runs in the job folder: a relative folder means the one the user was in.
      ...(storage ? ['--storage', /^[a-z][a-z0-9+.-]*:\/\//i.test(storage) ? storage : resolve(storage)] : []),
    ];
  }
}

/**
 * The Python probe of `checkReady`: `missing` without Ray Train; for the address `auto`, the
 * cluster Ray finds (`address:host:port`) or `noauto:` when there is none.
 */
const RAY_PROBE = `import importlib.util as u, sys
if not (u.find_spec("ray") and u.find_spec("ray.train")):
    print("missing"); sys.exit(0)
if sys.argv[1] == "auto":
    import ray._private.services as services
    try:
        print("address:" + services.canonicalize_bootstrap_address_or_die("auto"))
    except Exception as error:
        print("noauto:" + str(error).splitlines()[0])
else:
    print("ok")`;

/** The cluster answers: `ray://host:port` and `host:port` accept a TCP connection within 5 s. */
export async function checkRayAddress(address: string | undefined, signal?: AbortSignal): Promise<void> {
  if (!address) return;
  const match = /^(?:ray:\/\/)?\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(address);
  if (!match) {
    throw new Prompt2ModelError({
      message: `The Ray address ${address} is not one Ray accepts.`,
      hint: 'Use auto, ray://<head>:10001 (Ray Client) or <head>:6379 (on a cluster node).',
      exitCategory: 'configuration',
    });
  }
  const [, host, port] = match;
  const reachable = await new Promise<string | undefined>((done) => {
    const socket = connect({ host: host!, port: Number(port), timeout: 5_000 });
    const finish = (problem?: string) => {
      socket.destroy();
      signal?.removeEventListener('abort', onAbort);
      done(problem);
    };
    const onAbort = () => finish('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish());
    socket.once('timeout', () => finish('no answer within 5 s'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
  if (reachable) {
    throw new Prompt2ModelError({
      message: `The Ray cluster at ${address} cannot be reached (${reachable}).`,
      hint: 'Check the address and that the cluster is up (`ray status` on its head node; Ray Client listens on port 10001), or leave the address out to start a local cluster for the job.',
      exitCategory: 'configuration',
    });
  }
}

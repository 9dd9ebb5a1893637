import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  AbortError,
  APICallError,
  JOB_FILES,
  LoadSettingError,
  Prompt2ModelError,
  RUN_FILES,
  sleep,
  ValidationError,
  type SettingsEnvironment,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
} from '@prompt2model/core/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';
import type { HubJobHardware, HubJobsClient } from '@prompt2model/huggingface/hub';
import { TEXT_DATA_RULES } from '../data.js';
import type { TrainingPricing } from '../estimate.js';
import { parseEventLine } from '../events.js';
import { collectFromJobFolder, JOB_CONFIG_FILE, jobHashOf, prepareJobFolder, readIntactWorkerResult } from '../job-folder.js';
import { resolveModelReference, workerPythonDir } from '../python-path.js';

/**
 * The image jobs run in: an official PyTorch image at a pinned tag (the one the Hub's own Jobs guide
 * uses). The job then installs the worker's pinned requirements over it, so what trains is the same
 * stack as `prompt2model setup --gpu`, whatever the image brings.
 */
export const HF_JOBS_IMAGE = 'pytorch/pytorch:2.6.0-cuda12.4-cudnn9-devel';

export const HF_JOBS_DEFAULT_FLAVOR = 'a10g-small';

/**
 * Assumed training throughput of the worker per accelerator, tokens a second (forward + backward,
 * LoRA on a small seq2seq or decoder model in bf16), for the time estimate. Anchored on the local
 * backend's assumption for a GPU (5,000 tokens/s, an A10G-class card) and scaled by each card's
 * dense bf16/fp16 throughput and memory bandwidth; a CPU flavor is priced at about what a 2-core
 * probe of the tiny test model measures, times its cores. Not measured on Hugging Face hardware.
 */
export const HF_JOBS_THROUGHPUT: ReadonlyArray<{ accelerator: RegExp; tokensPerSecond: number }> = [
  { accelerator: /h200/i, tokensPerSecond: 28_000 },
  { accelerator: /h100/i, tokensPerSecond: 25_000 },
  { accelerator: /a100/i, tokensPerSecond: 12_000 },
  { accelerator: /l40s/i, tokensPerSecond: 12_000 },
  { accelerator: /a10g/i, tokensPerSecond: 5_000 },
  { accelerator: /l4/i, tokensPerSecond: 3_500 },
  { accelerator: /t4/i, tokensPerSecond: 2_000 },
];
/**
 * The Hub's published hourly list prices (huggingface.co/docs/hub/jobs-pricing, December 2026) of
 * common flavors, for a quote made before the live hardware list was read (`run --estimate-only`
 * quotes synchronously); the job itself is always quoted from the live list.
 */
export const HF_JOBS_LIST_PRICES: Readonly<Record<string, { hourlyUsd: number; prettyName: string; gpu?: string; gpus?: number }>> = {
  'cpu-basic': { hourlyUsd: 0.01, prettyName: 'CPU Basic' },
  'cpu-upgrade': { hourlyUsd: 0.03, prettyName: 'CPU Upgrade' },
  't4-small': { hourlyUsd: 0.4, prettyName: 'Nvidia T4 - small', gpu: 'T4' },
  't4-medium': { hourlyUsd: 0.6, prettyName: 'Nvidia T4 - medium', gpu: 'T4' },
  l4x1: { hourlyUsd: 0.8, prettyName: '1x Nvidia L4', gpu: 'L4' },
  'a10g-small': { hourlyUsd: 1, prettyName: 'Nvidia A10G - small', gpu: 'A10G' },
  'a10g-large': { hourlyUsd: 1.5, prettyName: 'Nvidia A10G - large', gpu: 'A10G' },
  'a100-large': { hourlyUsd: 2.5, prettyName: 'Nvidia A100 - large', gpu: 'A100' },
};
const CPU_TOKENS_PER_SECOND = 150;
const UNKNOWN_GPU_TOKENS_PER_SECOND = 5_000;
/** Pulling the image, installing the pinned stack, loading the model, pushing and downloading it: about 10 minutes. */
const OVERHEAD_HOURS = 10 / 60;
/** The label that finds this job again after a restart, whatever happened to the run folder's handle. */
const JOB_LABEL = 'prompt2model-job';

export interface HfJobsBackendOptions {
  /** Hardware flavor (`a10g-small`, `t4-small`, `l4x1`, `a100-large`, ...); checked against the Hub's hardware list. Default a10g-small. */
  flavor?: string;
  /** Docker image the job runs in. Default HF_JOBS_IMAGE. */
  image?: string;
  /** Install the worker's pinned requirements in the job (default true); false for an image that has them. */
  installRequirements?: boolean;
  /** User or organisation the job, the data repo and the model repo belong to. Default: the token's account. */
  namespace?: string;
  /** Private model repo the job pushes the trained model to. Default `<namespace>/p2m-model-<job hash>`. */
  modelRepo?: string;
  /** The Hub's own limit on the job's run time, seconds. Default 4 hours. */
  timeoutSeconds?: number;
  /** Hub token with write access; default HF_TOKEN. Sent to the job as a secret, never as a variable or a file. */
  accessToken?: string;
  /** Hub base URL; default HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  fetch?: typeof fetch;
  /** The settings whose secret values no uploaded file may hold. Default: this process's. */
  env?: SettingsEnvironment;
  /** Assumed tokens a second of the flavor's GPU, instead of the HF_JOBS_THROUGHPUT table. */
  tokensPerSecond?: number;
  /** Wait before following the logs again when the Hub closes the stream of a running job. Default 5 s. */
  reconnectMs?: number;
  /**
   * What to do with the remote job when the watch is interrupted (Ctrl-C): `cancel` it (billing
   * stops) or `leave` it running (a rerun re-attaches). Default: leave.
   */
  onInterrupt?: (job: { id: string; url: string }) => Promise<'cancel' | 'leave'>;
  /** Folder of the job folders inside the run folder (default `training`). */
  jobsDir?: string;
}

interface HfJobHandle extends TrainingJobHandle {
  remoteJobId?: string;
  namespace?: string;
  modelRepo?: string;
  modelRevision?: string;
}

/**
 * Trains on Hugging Face Jobs (a GPU by the minute) with the @huggingface/hub Jobs API: the job
 * folder (job.json, data, a local base model) and the worker go to a private dataset repo; a job
 * in a pinned PyTorch image fetches them, installs the pinned stack, runs the worker, and pushes
 * the trained model to a private model repo, which `collect` downloads into the job folder (so
 * export and evaluation run here as for a local job). The worker's protocol lines in the job's log
 * drive progress. A rerun re-attaches to the running job (its id is in the stored handle, and the
 * job carries a label with the job's hash), never starting a second one.
 */
export class HfJobsBackend implements TrainerBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'hf-jobs';
  readonly dataRules = TEXT_DATA_RULES;
  private clientInstance: HubJobsClient | undefined;
  private hardwareList: HubJobHardware[] | undefined;
  private account: string | undefined;
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly options: HfJobsBackendOptions = {}) {}

  get flavor(): string {
    return this.options.flavor ?? HF_JOBS_DEFAULT_FLAVOR;
  }

  /** Token, account and flavor, checked before any upload or paid call. */
  async checkReady(): Promise<void> {
    await this.namespace();
    await this.hardware();
  }

  /** From the live hardware list once read (`checkReady`, `measurePricing`); before that, from the list prices of common flavors. */
  pricing(): TrainingPricing {
    if (this.hardwareList) return pricingOf(this.flavorInfo(this.hardwareList), this.options.tokensPerSecond);
    const listed = HF_JOBS_LIST_PRICES[this.flavor];
    if (!listed) {
      throw new Prompt2ModelError({
        message: `The price of the ${this.flavor} flavor comes from the Hub's hardware list, which was not read yet.`,
        hint: 'Estimate through the trainer (it reads the list first), or check that the Hub is reachable.',
      });
    }
    const hourlyMicroUsd = Math.round((listed.hourlyUsd / 60) * 1e6);
    const hardware = {
      name: this.flavor,
      prettyName: listed.prettyName,
      cpu: '',
      ram: '',
      accelerator: listed.gpu ? { type: 'gpu' as const, model: listed.gpu, quantity: String(listed.gpus ?? 1), vram: '', manufacturer: 'Nvidia' as const } : null,
      unitCostMicroUSD: hourlyMicroUsd,
      unitCostUSD: hourlyMicroUsd / 1e6,
      unitLabel: 'minute',
    };
    return { ...pricingOf(hardware, this.options.tokensPerSecond), note: 'list price of December 2026 (the Hub’s hardware list was not read yet); the job is quoted again from the live list before it starts' };
  }

  async measurePricing(): Promise<TrainingPricing> {
    return pricingOf(this.flavorInfo(await this.hardware()), this.options.tokensPerSecond);
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    const client = await this.client();
    const namespace = (resume as HfJobHandle | undefined)?.namespace ?? (await this.namespace());
    const hash = jobHashOf(job, context.store.dir).slice(0, 12);
    const id = resume?.id ?? `hf-jobs-${hash}`;
    const dir = resume?.dir ?? context.store.path(join(this.options.jobsDir ?? RUN_FILES.training, id));
    const base: HfJobHandle = { id, backend: this.name, dir, namespace, modelRepo: this.options.modelRepo ?? `${namespace}/p2m-model-${hash}` };
    const previous = resume as HfJobHandle | undefined;
    if (previous?.remoteJobId) {
      const remote = await client.get(namespace, previous.remoteJobId);
      // The client's type lacks the Hub's COMPLETED and CANCELED stages (huggingface_hub's JobStage has them).
      const stage = remote.status.stage as string;
      if (stage === 'RUNNING' || stage === 'COMPLETED') {
        context.events.log('info', `Re-attaching to Hugging Face job ${remote.id} (${stage.toLowerCase()}): ${jobUrl(client.hubUrl, namespace, remote.id)}`, 'train');
        return { ...base, ...previous };
      }
      context.events.log('warn', `Hugging Face job ${remote.id} is ${stage.toLowerCase()}${remote.status.message ? ` (${remote.status.message})` : ''}; starting a new one.`, 'train');
    }
    // A job of this spec still running without a stored handle (the CLI was killed right after creating it) is re-attached too.
    const running = (await client.list(namespace)).find((remote) => remote.labels?.[JOB_LABEL] === hash && remote.status.stage === 'RUNNING');
    if (running) {
      context.events.log('info', `Re-attaching to Hugging Face job ${running.id}, still running: ${jobUrl(client.hubUrl, namespace, running.id)}`, 'train');
      return { ...base, remoteJobId: running.id };
    }
    const hardware = this.flavorInfo(await this.hardware());
    await prepareJobFolder(dir, job);
    const datasetRepo = `${namespace}/p2m-job-${hash}`;
    const staging = await mkdtemp(join(tmpdir(), 'p2m-hf-job-'));
    let revision: string;
    try {
      const files = await this.jobFiles(dir, staging, hardware);
      const { uploadRepoFiles } = await import('@prompt2model/huggingface/hub');
      const uploaded = await uploadRepoFiles({ ...(await this.hubOptions()), repo: datasetRepo, type: 'dataset', private: true, files, commitTitle: `prompt2model training job ${hash}` });
      revision = uploaded.commit;
      context.events.log('info', `Uploaded the job (${files.length} files) to the private dataset ${datasetRepo}`, 'train');
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    const bootstrap = await readFile(join(workerPythonDir(), 'p2m_worker', 'hf_job_bootstrap.py'), 'utf8');
    const created = await client.run(namespace, {
      dockerImage: this.options.image ?? HF_JOBS_IMAGE,
      command: ['python', '-c', bootstrap],
      environment: {
        HF_ENDPOINT: client.hubUrl,
        P2M_JOB_REPO: datasetRepo,
        P2M_JOB_REVISION: revision,
        P2M_MODEL_REPO: base.modelRepo!,
        P2M_INSTALL_REQUIREMENTS: this.options.installRequirements === false ? '0' : '1',
        PYTHONUNBUFFERED: '1',
        // The model goes up over the Hub's LFS protocol, which every Hub endpoint accepts (mirrors and
        // private deployments included), not Xet, which huggingface_hub would pick when hf_xet is installed.
        HF_HUB_DISABLE_XET: '1',
      },
      // Encrypted by the Hub and set in the job's environment; never in `environment`, a file or a log.
      secrets: { HF_TOKEN: await this.token() },
      flavor: this.flavor as never,
      timeoutSeconds: this.options.timeoutSeconds ?? 4 * 3600,
      labels: { [JOB_LABEL]: hash },
    });
    context.events.log('info', `Started Hugging Face job ${created.id} on ${hardware.prettyName}: ${jobUrl(client.hubUrl, namespace, created.id)}`, 'train');
    return { ...base, remoteJobId: created.id };
  }

  async *watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent> {
    const job = handle as HfJobHandle;
    const jobId = requireRemote(job);
    const namespace = job.namespace ?? (await this.namespace());
    const client = await this.client();
    const controller = new AbortController();
    this.running.set(handle.id, controller);
    const signal = AbortSignal.any([context.signal, controller.signal]);
    let seen = 0;
    let done: TrainingEvent | undefined;
    let failure: Extract<TrainingEvent, { type: 'error' }> | undefined;
    try {
      for (;;) {
        let index = 0;
        try {
          for await (const line of client.logs(namespace, jobId, signal)) {
            // The Hub replays a job's log from its start on every request: skip what was already seen.
            if (index++ < seen) continue;
            seen++;
            if (line.startsWith('===== Job started')) {
              yield { type: 'log', level: 'info', message: `Hugging Face job ${jobId} is running` };
              continue;
            }
            const event = parseEventLine(line);
            if (!event) continue;
            // Held until the job has finished: the job reports done only once the model is on the Hub.
            if (event.type === 'done') done = event;
            else if (event.type === 'error') failure = event;
            else yield event;
          }
        } catch (error) {
          if (signal.aborted) throw error;
          if (!(APICallError.isInstance(error) && error.isRetryable)) throw error;
          context.events.log('debug', `The log stream of Hugging Face job ${jobId} broke (${error.message}); following it again.`, 'train');
        }
        const remote = await client.get(namespace, jobId);
        const stage = remote.status.stage as string;
        if (stage === 'COMPLETED') {
          if (done && typeof done.modelRepo === 'string') {
            job.modelRepo = done.modelRepo;
            if (typeof done.modelRevision === 'string') job.modelRevision = done.modelRevision;
            yield done;
          } else {
            yield { type: 'error', message: `Hugging Face job ${jobId} completed without reporting a trained model`, hint: 'Read the job log at ' + jobUrl(client.hubUrl, namespace, jobId) };
          }
          return;
        }
        if (stage !== 'RUNNING' && stage !== 'UPDATING') {
          const reason = failure?.message ?? remote.status.message ?? stage.toLowerCase();
          yield {
            ...failure,
            type: 'error',
            message: stage === 'CANCELED' ? `the Hugging Face job was cancelled` : `Hugging Face job ${jobId} ended ${stage.toLowerCase()}: ${reason}`,
            hint: typeof failure?.hint === 'string' ? failure.hint : `See the job log at ${jobUrl(client.hubUrl, namespace, jobId)}; rerun the same command to start a new job.`,
          };
          return;
        }
        // Still running: the Hub closed a long stream. Follow it again after a pause.
        await sleep(this.options.reconnectMs ?? 5000, signal);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
      const url = jobUrl(client.hubUrl, namespace, jobId);
      const choice = controller.signal.aborted ? 'cancel' : await (this.options.onInterrupt?.({ id: jobId, url }) ?? Promise.resolve('leave' as const));
      if (choice === 'cancel') {
        await client.cancel(namespace, jobId);
        delete job.remoteJobId;
        context.events.log('warn', `Cancelled Hugging Face job ${jobId}; a rerun starts a new job.`, 'train');
      } else {
        context.events.log('warn', `Hugging Face job ${jobId} keeps running (billed by the minute). Rerun the same command to re-attach, or cancel it on its page (${url}) or with the hf CLI: hf jobs cancel ${jobId}`, 'train');
      }
      throw AbortError.isInstance(error) ? error : new AbortError(undefined, error);
    } finally {
      this.running.delete(handle.id);
    }
  }

  /** Stops the remote job: while it is watched, through the watch (which cancels it); else directly. */
  async cancel(handle: TrainingJobHandle): Promise<void> {
    const watching = this.running.get(handle.id);
    if (watching) {
      watching.abort(new Error('cancelled'));
      return;
    }
    const job = handle as HfJobHandle;
    if (!job.remoteJobId) return;
    await (await this.client()).cancel(job.namespace ?? (await this.namespace()), job.remoteJobId);
  }

  /** Downloads the model the job pushed into the job folder's output/ (unless it is already there), then reads it as a local job's. */
  async collect(handle: TrainingJobHandle, job: TrainingJobSpec): Promise<TrainedModel> {
    const remote = handle as HfJobHandle;
    const dir = handle.dir!;
    if (!(await readIntactWorkerResult(dir))) {
      if (!remote.modelRepo) throw new Prompt2ModelError({ message: `Training job ${handle.id} names no model repo.`, hint: 'Rerun the same command.' });
      const output = join(dir, JOB_FILES.output);
      await rm(output, { recursive: true, force: true });
      const { downloadRepoFiles } = await import('@prompt2model/huggingface/hub');
      await downloadRepoFiles({ ...(await this.hubOptions()), repo: remote.modelRepo, type: 'model', ...(remote.modelRevision ? { revision: remote.modelRevision } : {}), dir: output });
    }
    const model = await collectFromJobFolder(dir, job, this.name, remote.remoteJobId ?? handle.id);
    const billedSeconds = await this.billedSeconds(remote);
    return { ...model, metrics: { ...model.metrics, ...(billedSeconds !== undefined ? { billedSeconds } : {}) } };
  }

  /** The job's run time as the Hub bills it (whole minutes), when the Hub reports its start and end. */
  private async billedSeconds(handle: HfJobHandle): Promise<number | undefined> {
    if (!handle.remoteJobId) return undefined;
    const remote = await (await this.client()).get(handle.namespace ?? (await this.namespace()), handle.remoteJobId).catch(() => undefined);
    const start = Date.parse(remote?.startedAt ?? remote?.createdAt ?? '');
    const end = Date.parse(remote?.finishedAt ?? '');
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return undefined;
    return Math.max(1, Math.ceil((end - start) / 60_000)) * 60;
  }

  /** What goes to the dataset repo: the job folder (job.json pointing at a shipped base model when it is a local folder), and the worker with its pinned requirements. */
  private async jobFiles(dir: string, staging: string, hardware: HubJobHardware): Promise<Array<{ path: string; file: string }>> {
    const config = JSON.parse(await readFile(join(dir, JOB_CONFIG_FILE), 'utf8')) as { job: TrainingJobSpec };
    const files: Array<{ path: string; file: string }> = [];
    const localModel = resolveModelReference(config.job.baseModel);
    if (existsSync(localModel) && statSync(localModel).isDirectory()) {
      // A model folder on this machine travels with the job; a Hub id is downloaded by the job itself.
      for (const file of await filesUnder(localModel)) files.push({ path: `job/base-model/${relative(localModel, file)}`, file });
      config.job.baseModel = './base-model';
    }
    const remoteConfig = join(staging, JOB_CONFIG_FILE);
    await writeFile(remoteConfig, JSON.stringify(config, null, 2));
    files.push({ path: `job/${JOB_CONFIG_FILE}`, file: remoteConfig });
    files.push({ path: `job/${JOB_FILES.train}`, file: join(dir, JOB_FILES.train) });
    if (existsSync(join(dir, JOB_FILES.validation))) files.push({ path: `job/${JOB_FILES.validation}`, file: join(dir, JOB_FILES.validation) });
    const worker = workerPythonDir();
    for (const name of (await readdir(join(worker, 'p2m_worker'))).filter((entry) => entry.endsWith('.py')).sort()) {
      files.push({ path: `worker/p2m_worker/${name}`, file: join(worker, 'p2m_worker', name) });
    }
    files.push({ path: 'worker/requirements.txt', file: join(worker, hardware.accelerator ? 'requirements-cuda.txt' : 'requirements-cpu.txt') });
    return files;
  }

  /** The token: the option, else HF_TOKEN (the Hub client's own default); missing, an error that names it. */
  private async token(): Promise<string> {
    const { resolveHubToken } = await import('@prompt2model/huggingface/hub');
    const token = resolveHubToken(this.options.accessToken);
    if (!token) {
      throw new LoadSettingError({
        message: 'Training on Hugging Face Jobs needs a Hub token with write access, and none was given (HF_TOKEN is not set).',
        environmentVariableName: 'HF_TOKEN',
        hint: 'Create a token with write access at https://huggingface.co/settings/tokens and export HF_TOKEN=hf_... (Jobs need a PRO account or a Team/Enterprise organisation with credits).',
      });
    }
    return token;
  }

  private async hubOptions() {
    return {
      accessToken: await this.token(),
      ...(this.options.hubUrl ? { hubUrl: this.options.hubUrl } : {}),
      ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      ...(this.options.env ? { env: this.options.env } : {}),
    };
  }

  private async client(): Promise<HubJobsClient> {
    if (!this.clientInstance) {
      const { createHubJobsClient } = await import('@prompt2model/huggingface/hub');
      this.clientInstance = await createHubJobsClient(await this.hubOptions());
    }
    return this.clientInstance;
  }

  /** The namespace jobs run in: the option, else the token's account (which also proves the token works). */
  private async namespace(): Promise<string> {
    if (this.account) return this.account;
    const client = await this.client();
    let name: string;
    try {
      name = (await client.whoAmI()).name;
    } catch (error) {
      if (APICallError.isInstance(error) && (error.statusCode === 401 || error.statusCode === 403)) {
        throw new LoadSettingError({
          message: `The Hugging Face Hub at ${client.hubUrl} rejected the token (${error.statusCode}).`,
          environmentVariableName: 'HF_TOKEN',
          hint: 'Set HF_TOKEN to a valid token with write access (https://huggingface.co/settings/tokens).',
        });
      }
      throw error;
    }
    this.account = this.options.namespace ?? name;
    return this.account;
  }

  private async hardware(): Promise<HubJobHardware[]> {
    this.hardwareList ??= await (await this.client()).hardware();
    this.flavorInfo(this.hardwareList);
    return this.hardwareList;
  }

  private flavorInfo(list: HubJobHardware[]): HubJobHardware {
    const found = list.find((entry) => entry.name === this.flavor);
    if (found) return found;
    const gpus = list.filter((entry) => entry.accelerator).map((entry) => entry.name);
    throw new ValidationError({
      subject: 'Hugging Face Jobs flavor',
      issues: [{ path: 'flavor', message: `"${this.flavor}" is not a Jobs hardware flavor; the Hub offers ${list.map((entry) => entry.name).join(', ')}` }],
      hint: `Pick a flavor from that list, e.g. ${gpus[0] ?? list[0]?.name ?? HF_JOBS_DEFAULT_FLAVOR}.`,
    });
  }
}

/** The flavor's price per hour from the hardware list (billed per minute on the Hub) and the assumed throughput of its accelerator. */
export function pricingOf(hardware: HubJobHardware, tokensPerSecond?: number): Extract<TrainingPricing, { kind: 'gpu-time' }> {
  const unitUsd = hardware.unitCostMicroUSD / 1e6;
  const perHour = hardware.unitLabel === 'hour' ? unitUsd : hardware.unitLabel === 'second' ? unitUsd * 3600 : unitUsd * 60;
  const accelerator = hardware.accelerator;
  const assumed = accelerator ? (HF_JOBS_THROUGHPUT.find((entry) => entry.accelerator.test(accelerator.model))?.tokensPerSecond ?? UNKNOWN_GPU_TOKENS_PER_SECOND) : CPU_TOKENS_PER_SECOND;
  const quantity = Number(accelerator?.quantity ?? 1);
  return {
    kind: 'gpu-time',
    gpuHourlyUsd: Number(perHour.toFixed(4)),
    tokensPerSecondPerGpu: tokensPerSecond ?? assumed,
    // The worker trains in one process on one GPU; the price is the whole machine's.
    gpus: 1,
    overheadHours: OVERHEAD_HOURS,
    device: accelerator ? hardware.prettyName : `cpu (${[hardware.prettyName, hardware.cpu].filter(Boolean).join(', ')})`,
    measured: false,
    ...(quantity > 1 ? { note: `${hardware.name} has ${quantity} GPUs and the worker trains on one of them; a one-GPU flavor costs less` } : {}),
  };
}

function jobUrl(hubUrl: string, namespace: string, id: string): string {
  return `${hubUrl}/jobs/${namespace}/${id}`;
}

function requireRemote(handle: HfJobHandle): string {
  if (!handle.remoteJobId) throw new Prompt2ModelError({ message: `Training job ${handle.id} has no Hugging Face job id.`, hint: 'Rerun the same command to start the job.' });
  return handle.remoteJobId;
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
}

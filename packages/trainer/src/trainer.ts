import {
  AbortError,
  fromRunRelative,
  JsonlWriter,
  portableTrainingJob,
  RUN_FILES,
  toRunRelative,
  TRAINING_FILES,
  Prompt2ModelError,
  type StageContext,
  type Trainer,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
  type TrainingJobSpecInput,
} from '@prompt2model/core/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';
import { validateTrainingData } from './data.js';
import { estimateTrainingCost, formatEstimate, type TrainingEstimate, type TrainingPricing } from './estimate.js';
import { parseTrainingJob } from './spec.js';
import { exportTrainedModel, type ExportOnnxOptions } from './onnx-export.js';
import { modelCardInputFromRun, writeModelCard } from './model-card.js';
import { jobHashOf } from './job-folder.js';

export interface CreateTrainerOptions {
  backend: TrainerBackend;
  /** Overrides the backend's pricing (e.g. your negotiated GPU price). */
  pricing?: TrainingPricing;
  /** Stage name on progress events (default `train`). */
  stage?: string;
  /** Folder for handle, estimate and events inside the run folder (default `training`). */
  folder?: string;
  /**
   * Export a locally trained model to ONNX after training (transformers.js layout, `artifacts.onnx`),
   * so evaluation and the demo need no Python. A failed export is a warning: the PyTorch model stays
   * usable through the predict worker. Default off; the pipeline and the CLI turn it on.
   */
  exportOnnx?: false | Omit<ExportOnnxOptions, 'model' | 'baseModel' | 'events' | 'signal'>;
}

export interface PreparedTraining {
  job: TrainingJobSpec;
  estimate: TrainingEstimate;
  /** The estimate as the CLI prints it. */
  summary: string;
}

export interface TrainerWithEstimate extends Trainer {
  readonly backend: TrainerBackend;
  /** Validates the job and its data and estimates cost/time, without launching anything. */
  prepare(job: TrainingJobSpecInput | TrainingJobSpec, context: StageContext): Promise<PreparedTraining>;
  /** Trains a job `prepare` already validated and estimated (so it is not prepared twice). */
  trainPrepared(prepared: PreparedTraining, context: StageContext): Promise<TrainedModel>;
  /**
   * Whether the training recorded in the run folder (if any) is of this job, so a finished
   * training is reused only for the same model, data and settings.
   */
  matchesRecordedJob(job: TrainingJobSpec, context: StageContext): Promise<boolean>;
}

interface StoredHandle {
  jobHash: string;
  handle: TrainingJobHandle;
  /** Seconds this process (and earlier runs) watched the job run: the measured GPU time of local/command jobs. */
  watchedSeconds?: number;
  /** The charge recorded in the cost ledger once the job was done; never recorded twice. */
  charged?: { jobId: string; usd: number };
}

function isStoredHandle(value: unknown): value is StoredHandle {
  if (!value || typeof value !== 'object') return false;
  const { jobHash, handle } = value as Record<string, unknown>;
  if (typeof jobHash !== 'string' || !handle || typeof handle !== 'object') return false;
  const { id, backend, dir } = handle as Record<string, unknown>;
  return typeof id === 'string' && typeof backend === 'string' && (dir === undefined || typeof dir === 'string');
}

function withoutValidation(job: TrainingJobSpec): TrainingJobSpec {
  const { validation: _dropped, ...data } = job.data;
  return { ...job, data };
}

/**
 * The training stage: validate → estimate → budget check → submit (or resume the job recorded in
 * the run folder) → stream events as progress → collect the model. Events are kept in
 * `training/events.jsonl`; the backend's handle in `training/handle.json`, so rerunning after a
 * crash or Ctrl-C re-attaches to the same job instead of starting (and paying for) a new one.
 */
export function createTrainer(options: CreateTrainerOptions): TrainerWithEstimate {
  const { backend } = options;
  const stage = options.stage ?? 'train';
  const folder = options.folder ?? RUN_FILES.training;
  const handleFile = `${folder}/${TRAINING_FILES.handle}`;

  async function prepare(input: TrainingJobSpecInput | TrainingJobSpec, context: StageContext): Promise<PreparedTraining> {
    const parsed = parseTrainingJob(input);
    backend.validateJob?.(parsed);
    const data = await validateTrainingData(parsed, backend.dataRules);
    // A validation file the backend would reject is left out of the job (the warning says so).
    const job = data.droppedValidation ? withoutValidation(parsed) : parsed;
    const tokensPerExample = data.train.count > 0 ? Math.round(data.train.tokens / data.train.count) : 0;
    const pricing = options.pricing ?? (await backend.measurePricing?.(job, { tokensPerExample }, context)) ?? backend.pricing(job);
    const estimate = estimateTrainingCost(job, data, pricing);
    const summary = formatEstimate(estimate, backend.name);
    await context.store.writeJson(`${folder}/${TRAINING_FILES.estimate}`, { backend: backend.name, job: portableTrainingJob(job, context.store.dir), estimate });
    return { job, estimate, summary };
  }

  async function train(input: TrainingJobSpec, context: StageContext): Promise<TrainedModel> {
    return trainPrepared(await prepare(input, context), context);
  }

  async function matchesRecordedJob(job: TrainingJobSpec, context: StageContext): Promise<boolean> {
    const saved = await context.store.readJson<unknown>(handleFile).catch(() => undefined);
    return isStoredHandle(saved) && saved.jobHash === jobHashOf(job, context.store.dir);
  }

  async function trainPrepared({ job, estimate, summary }: PreparedTraining, context: StageContext): Promise<TrainedModel> {
    const { store, events } = context;
    events.log('info', summary, stage);
    const jobHash = jobHashOf(job, store.dir);
    const saved = await store.readJson<unknown>(handleFile);
    if (saved !== undefined && !isStoredHandle(saved)) events.log('warn', `Ignoring a damaged ${handleFile}.`, stage);
    // The job folder is recorded relative to the run folder: a moved or copied run resumes its own job.
    const stored = isStoredHandle(saved) ? { ...saved, handle: { ...saved.handle, ...(saved.handle.dir ? { dir: fromRunRelative(store.dir, saved.handle.dir) } : {}) } } : undefined;
    let resume: TrainingJobHandle | undefined;
    if (stored && stored.handle.backend === backend.name && stored.jobHash === jobHash) {
      resume = stored.handle;
      events.log('info', `Resuming training job ${resume.id}.`, stage);
    } else {
      if (stored) events.log('warn', `The run folder holds a different training job (${stored.handle.id}); starting a new one.`, stage);
      // Only a new job commits new money; a resumed one was checked when it started.
      context.ledger.assertCanSpend(estimate.usd);
    }
    // Bookkeeping that survives restarts of the same job: time watched, and whether it was charged.
    const book: Pick<StoredHandle, 'watchedSeconds' | 'charged'> = resume
      ? { watchedSeconds: validSeconds(stored?.watchedSeconds), ...(isCharge(stored?.charged) ? { charged: stored!.charged } : {}) }
      : { watchedSeconds: 0 };
    const saveHandle = (handle: TrainingJobHandle) =>
      store.writeJson(handleFile, { jobHash, handle: { ...handle, ...(handle.dir ? { dir: toRunRelative(store.dir, handle.dir) } : {}) }, ...book });
    const handle = await backend.submit(job, context, resume);
    await saveHandle(handle);

    const log = await JsonlWriter.open(store.path(`${folder}/${TRAINING_FILES.events}`));
    let totalSteps = estimate.steps;
    const lastMetrics: Record<string, number> = {};
    let finished = false;
    const watchStarted = performance.now();
    try {
      for await (const event of backend.watch(handle, context)) {
        await log.write({ ...event, at: new Date().toISOString() });
        const remoteJobId = event.remoteJobId;
        if (typeof remoteJobId === 'string' && handle.remoteJobId !== remoteJobId) {
          handle.remoteJobId = remoteJobId;
          await saveHandle(handle);
        }
        totalSteps = render(event, context, stage, totalSteps, lastMetrics);
        if (event.type === 'error') throw errorFromEvent(event, handle);
        if (event.type === 'done') {
          finished = true;
          break;
        }
      }
    } catch (error) {
      // Cancellation may have changed the handle (a remote job stopped); keep what resume needs.
      if (AbortError.isInstance(error) || context.signal.aborted) {
        await saveHandle(handle);
        throw AbortError.isInstance(error) ? error : new AbortError(undefined, error);
      }
      throw error;
    } finally {
      await log.close();
      book.watchedSeconds = (book.watchedSeconds ?? 0) + (performance.now() - watchStarted) / 1000;
      await saveHandle(handle).catch(() => undefined);
    }
    if (!finished) {
      throw new Prompt2ModelError({ message: `Training job ${handle.id} stopped reporting before it was done.`, hint: 'Rerun the same command to re-attach or resume it.' });
    }
    const model = await backend.collect(handle, job, context);
    const metrics: Record<string, number> = { ...lastMetrics, ...model.metrics, estimatedCostUsd: estimate.usd, estimatedTrainedTokens: estimate.trainedTokens };
    const actual = actualTrainingCost(estimate.pricing, model.metrics, book.watchedSeconds ?? 0);
    if (actual) {
      if (actual.gpuHours !== undefined) metrics.gpuHours = actual.gpuHours;
      if (book.charged?.jobId === handle.id) {
        // Charged when this job finished in an earlier run: the run's ledger already holds it.
        metrics.costUsd = book.charged.usd;
      } else {
        metrics.costUsd = context.ledger.recordCharge(`training ${backend.name} ${handle.id}`, actual.usd);
        // Into the run manifest now (a later crash must not forget it), then marked as charged.
        await store.saveCost(context.ledger.snapshot());
        book.charged = { jobId: handle.id, usd: actual.usd };
        await saveHandle(handle);
      }
    }
    const trained = options.exportOnnx && model.kind === 'local-folder' ? await exportAfterTraining({ ...model, metrics }, options.exportOnnx, context) : { ...model, metrics };
    if (trained.kind === 'local-folder') {
      // A model card in every model folder; the pipeline rewrites it with the test metrics after evaluation.
      await writeModelCard(await modelCardInputFromRun(store.dir, trained, { job })).catch((error: unknown) =>
        events.log('warn', `Could not write the model card: ${(error as Error).message}`, stage),
      );
    }
    return trained;
  }

  return { specificationVersion: 'v1', name: `trainer-${backend.name}`, backend, prepare, train, trainPrepared, matchesRecordedJob };
}

async function exportAfterTraining(
  model: TrainedModel,
  exportOptions: Omit<ExportOnnxOptions, 'model' | 'baseModel' | 'events' | 'signal'>,
  context: StageContext,
): Promise<TrainedModel> {
  try {
    const { model: exported, export: result } = await exportTrainedModel(model, { ...exportOptions, events: context.events, signal: context.signal });
    const metrics: Record<string, number> = { ...exported.metrics, onnxExportSeconds: result.seconds, onnxBytes: result.bytes };
    if (result.quantizedBytes !== undefined) metrics.onnxQ8Bytes = result.quantizedBytes;
    context.events.log('info', `ONNX export: ${result.dir} (${(result.bytes / 1e6).toFixed(1)} MB${result.quantizedBytes !== undefined ? `, q8 ${(result.quantizedBytes / 1e6).toFixed(1)} MB` : ''})`, 'export');
    return { ...exported, metrics };
  } catch (error) {
    if (AbortError.isInstance(error) || context.signal.aborted) throw error;
    const hint = Prompt2ModelError.isInstance(error) && error.hint ? ` (${error.hint})` : '';
    context.events.log('warn', `ONNX export failed, evaluation uses the Python worker: ${(error as Error).message}${hint}`, 'export');
    return model;
  }
}

/**
 * What a finished job cost: trained tokens × the per-token price (managed APIs report the tokens
 * they billed), or the measured GPU time × GPUs × the hourly price: the run time the machine's
 * provider billed (`metrics.billedSeconds`) when the backend reports it, else the time this
 * machine watched the worker run, over every attempt of the job (local/command backends). Undefined when there is
 * no price (your own GPU) or nothing to price it by.
 */
export function actualTrainingCost(
  pricing: TrainingPricing,
  metrics: Record<string, number>,
  watchedSeconds: number,
): { usd: number; gpuHours?: number } | undefined {
  if (pricing.kind === 'per-token') {
    if (typeof metrics.trainedTokens === 'number' && Number.isFinite(metrics.trainedTokens) && metrics.trainedTokens >= 0) {
      return { usd: (metrics.trainedTokens * pricing.usdPer1MTokens) / 1_000_000 };
    }
    if (typeof metrics.costUsd === 'number' && Number.isFinite(metrics.costUsd) && metrics.costUsd >= 0) return { usd: metrics.costUsd };
    return undefined;
  }
  if (!(pricing.gpuHourlyUsd > 0)) return undefined;
  // A managed machine's billed run time (e.g. Hugging Face Jobs, by the minute) wins over the time
  // this machine watched: a job left running while the CLI was stopped is billed all the same.
  const billed = metrics.billedSeconds;
  const seconds = typeof billed === 'number' && Number.isFinite(billed) && billed >= 0 ? billed : watchedSeconds;
  const gpuHours = (Math.max(0, seconds) / 3600) * pricing.gpus;
  return { usd: gpuHours * pricing.gpuHourlyUsd, gpuHours };
}

function validSeconds(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function isCharge(value: unknown): value is { jobId: string; usd: number } {
  if (!value || typeof value !== 'object') return false;
  const { jobId, usd } = value as Record<string, unknown>;
  return typeof jobId === 'string' && typeof usd === 'number' && Number.isFinite(usd) && usd >= 0;
}

function render(event: TrainingEvent, context: StageContext, stage: string, totalSteps: number, lastMetrics: Record<string, number>): number {
  switch (event.type) {
    case 'start': {
      const total = typeof event.totalSteps === 'number' ? event.totalSteps : totalSteps;
      context.events.emit({ type: 'progress', stage, done: typeof event.resumedFromStep === 'number' ? event.resumedFromStep : 0, total });
      return total;
    }
    case 'step': {
      const total = event.totalSteps ?? totalSteps;
      const counters: Record<string, number> = {};
      if (event.loss !== undefined) counters.loss = event.loss;
      if (typeof event.epoch === 'number') counters.epoch = event.epoch;
      if (event.tokensPerSecond !== undefined) counters.tokensPerSecond = Math.round(event.tokensPerSecond);
      if (event.loss !== undefined) lastMetrics.trainLoss = event.loss;
      context.events.emit({ type: 'progress', stage, done: event.step, total, counters });
      return total;
    }
    case 'eval': {
      for (const [key, value] of Object.entries(event.metrics)) if (typeof value === 'number') lastMetrics[key] = value;
      const shown = Object.entries(event.metrics)
        .map(([key, value]) => `${key}=${typeof value === 'number' ? Number(value.toPrecision(4)) : value}`)
        .join(' ');
      context.events.log('info', `eval${event.epoch !== undefined ? ` epoch ${event.epoch}` : ''}: ${shown}`, stage);
      return totalSteps;
    }
    case 'checkpoint':
      context.events.log('debug', `checkpoint at step ${event.step}: ${event.path}`, stage);
      return totalSteps;
    case 'log':
      // Unlevelled lines (a library's banner) are debug detail; the worker's own info/warn stay visible.
      context.events.log(event.level === 'warn' || event.level === 'warning' ? 'warn' : event.level === 'info' ? 'info' : 'debug', event.message, stage);
      return totalSteps;
    default:
      return totalSteps;
  }
}

function errorFromEvent(event: Extract<TrainingEvent, { type: 'error' }>, handle: TrainingJobHandle): Prompt2ModelError {
  const hint =
    typeof event.hint === 'string'
      ? event.hint
      : typeof event.install === 'string'
        ? `Install the missing packages: ${event.install}`
        : 'Fix the cause above and rerun the same command: training resumes from the last checkpoint.';
  return new Prompt2ModelError({ message: `Training job ${handle.id} failed: ${event.message}`, hint });
}

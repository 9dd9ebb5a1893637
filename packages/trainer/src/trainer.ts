import {
  AbortError,
  hashValue,
  JsonlWriter,
  Prompt2ModelError,
  type StageContext,
  type Trainer,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
  type TrainingJobSpecInput,
} from '@prompt2model/core';
import type { TrainingBackend } from './backend.js';
import { validateTrainingData } from './data.js';
import { estimateTrainingCost, formatEstimate, type TrainingEstimate, type TrainingPricing } from './estimate.js';
import { parseTrainingJob } from './spec.js';

export interface CreateTrainerOptions {
  backend: TrainingBackend;
  /** Overrides the backend's pricing (e.g. your negotiated GPU price). */
  pricing?: TrainingPricing;
  /** Stage name on progress events (default `train`). */
  stage?: string;
  /** Folder for handle, estimate and events inside the run folder (default `training`). */
  folder?: string;
}

export interface PreparedTraining {
  job: TrainingJobSpec;
  estimate: TrainingEstimate;
  /** The estimate as the CLI prints it. */
  summary: string;
}

export interface TrainerWithEstimate extends Trainer {
  readonly backend: TrainingBackend;
  /** Validates the job and its data and estimates cost/time, without launching anything. */
  prepare(job: TrainingJobSpecInput | TrainingJobSpec, context: StageContext): Promise<PreparedTraining>;
}

interface StoredHandle {
  jobHash: string;
  handle: TrainingJobHandle;
}

function isStoredHandle(value: unknown): value is StoredHandle {
  if (!value || typeof value !== 'object') return false;
  const { jobHash, handle } = value as Record<string, unknown>;
  if (typeof jobHash !== 'string' || !handle || typeof handle !== 'object') return false;
  const { id, backend, dir } = handle as Record<string, unknown>;
  return typeof id === 'string' && typeof backend === 'string' && (dir === undefined || typeof dir === 'string');
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
  const folder = options.folder ?? 'training';

  async function prepare(input: TrainingJobSpecInput | TrainingJobSpec, context: StageContext): Promise<PreparedTraining> {
    const job = parseTrainingJob(input);
    backend.validateJob?.(job);
    const data = await validateTrainingData(job, backend.dataRules);
    const estimate = estimateTrainingCost(job, data, options.pricing ?? backend.pricing(job));
    const summary = formatEstimate(estimate, backend.name);
    await context.store.writeJson(`${folder}/estimate.json`, { backend: backend.name, job, estimate });
    return { job, estimate, summary };
  }

  async function train(input: TrainingJobSpec, context: StageContext): Promise<TrainedModel> {
    const { job, estimate, summary } = await prepare(input, context);
    const { store, events } = context;
    events.log('info', summary, stage);
    const jobHash = hashValue(job);
    const saved = await store.readJson<unknown>(`${folder}/handle.json`);
    if (saved !== undefined && !isStoredHandle(saved)) events.log('warn', `Ignoring a damaged ${folder}/handle.json.`, stage);
    const stored = isStoredHandle(saved) ? saved : undefined;
    let resume: TrainingJobHandle | undefined;
    if (stored && stored.handle.backend === backend.name && stored.jobHash === jobHash) {
      resume = stored.handle;
      events.log('info', `Resuming training job ${resume.id}.`, stage);
    } else {
      if (stored) events.log('warn', `The run folder holds a different training job (${stored.handle.id}); starting a new one.`, stage);
      // Only a new job commits new money; a resumed one was checked when it started.
      context.ledger.assertCanSpend(estimate.usd);
    }
    const saveHandle = (handle: TrainingJobHandle) => store.writeJson(`${folder}/handle.json`, { jobHash, handle });
    const handle = await backend.submit(job, context, resume);
    await saveHandle(handle);

    const log = await JsonlWriter.open(store.path(`${folder}/events.jsonl`));
    let totalSteps = estimate.steps;
    const lastMetrics: Record<string, number> = {};
    let finished = false;
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
    }
    if (!finished) {
      throw new Prompt2ModelError({ message: `Training job ${handle.id} stopped reporting before it was done.`, hint: 'Rerun the same command to re-attach or resume it.' });
    }
    const model = await backend.collect(handle, job, context);
    return {
      ...model,
      metrics: { ...lastMetrics, ...model.metrics, estimatedCostUsd: estimate.usd, estimatedTrainedTokens: estimate.trainedTokens },
    };
  }

  return { specificationVersion: 'v1', name: `trainer-${backend.name}`, backend, prepare, train };
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

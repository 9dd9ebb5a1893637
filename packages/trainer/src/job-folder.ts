import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { resolveModelReference } from './python-path.js';
import {
  hashValue,
  JOB_FILES,
  JOB_OUTPUT_FILES,
  portableTrainingJob,
  ValidationError,
  WorkerResultSchema,
  writeJsonAtomic,
  type TrainedModel,
  type TrainingJobSpec,
  type ValidationIssue,
} from '@prompt2model/core/internal';

/** Version of the job.json / events protocol shared with the Python worker. */
export const WORKER_PROTOCOL_VERSION = 1;

/**
 * The job folder is self-contained so it can be synced to a remote machine as is:
 *   job.json            the worker's config (paths relative to the folder)
 *   data/*.jsonl        the training data
 *   output/             checkpoints, model, tokenizer, adapter, merged copy, events.jsonl, result.json
 */
export interface WorkerConfig {
  protocolVersion: number;
  job: TrainingJobSpec;
  outputDir: string;
  /** Continue from the newest checkpoint in outputDir when there is one. */
  resume: boolean;
  /** Save a copy with the LoRA adapter merged into the base weights. */
  saveMerged: boolean;
}

export const JOB_CONFIG_FILE = JOB_FILES.config;
export const OUTPUT_DIR = JOB_FILES.output;
export const RESULT_FILE = JOB_OUTPUT_FILES.result;

/** A job's identity: its spec with the data paths relative to the run folder (the same job wherever the folder moves). */
export function jobHashOf(job: TrainingJobSpec, runDir: string): string {
  return hashValue(portableTrainingJob(job, runDir));
}

/** Writes job.json and copies the data into `dir`; returns the config path. */
export async function prepareJobFolder(dir: string, job: TrainingJobSpec): Promise<string> {
  await mkdir(join(dir, JOB_FILES.data), { recursive: true });
  await mkdir(join(dir, OUTPUT_DIR), { recursive: true });
  await copyFile(job.data.train, join(dir, JOB_FILES.train));
  if (job.data.validation) await copyFile(job.data.validation, join(dir, JOB_FILES.validation));
  const config: WorkerConfig = {
    protocolVersion: WORKER_PROTOCOL_VERSION,
    job: {
      ...job,
      // The worker runs inside the job folder: a relative --base-model must not change meaning there.
      baseModel: resolveModelReference(job.baseModel),
      data: { train: JOB_FILES.train, ...(job.data.validation ? { validation: JOB_FILES.validation } : {}) },
    },
    outputDir: OUTPUT_DIR,
    resume: true,
    saveMerged: true,
  };
  const path = join(dir, JOB_CONFIG_FILE);
  await writeJsonAtomic(path, config);
  return path;
}

/** `output/result.json`, written by the worker when it is done; paths relative to output/. */
export interface WorkerResult {
  model: string;
  tokenizer?: string;
  adapter?: string;
  merged?: string;
  metrics: Record<string, number>;
}

/** Checks the worker's result file with core's `WorkerResultSchema` (the file `locateModel` reads too). */
export function parseWorkerResult(value: unknown): { result?: WorkerResult; issues: ValidationIssue[] } {
  const parsed = WorkerResultSchema.safeParse(value);
  if (!parsed.success) return { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) };
  const metrics: Record<string, number> = {};
  for (const [key, metric] of Object.entries(parsed.data.metrics ?? {})) if (typeof metric === 'number' && Number.isFinite(metric)) metrics[key] = metric;
  const result: WorkerResult = { model: parsed.data.model, metrics };
  for (const key of ['tokenizer', 'adapter', 'merged'] as const) {
    const path = parsed.data[key];
    if (typeof path === 'string') result[key] = path;
  }
  return { result, issues: [] };
}

export async function readWorkerResult(dir: string): Promise<WorkerResult | undefined> {
  const path = join(dir, OUTPUT_DIR, RESULT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const { result, issues } = parseWorkerResult(json);
  if (!result) throw new ValidationError({ subject: path, issues, hint: 'The worker wrote an unexpected result; delete it and rerun training.' });
  return result;
}

/**
 * The finished result a worker left in `dir`, or undefined when there is none or the model folders
 * it names are gone (deleted after training): then the result is removed, so the job runs again
 * (from its checkpoints where they are left) instead of reporting a model that is not there.
 */
export async function readIntactWorkerResult(dir: string): Promise<WorkerResult | undefined> {
  const result = await readWorkerResult(dir);
  if (!result) return undefined;
  const output = join(dir, OUTPUT_DIR);
  const paths = [result.model, result.adapter, result.merged].filter((path): path is string => typeof path === 'string');
  const missing = paths.filter((path) => !existsSync(isAbsolute(path) ? path : resolve(output, path)));
  if (missing.length === 0) return result;
  await rm(join(output, RESULT_FILE), { force: true });
  return undefined;
}

/** The trained model a worker left in `dir`. */
export async function collectFromJobFolder(dir: string, job: TrainingJobSpec, backend: string, jobId: string): Promise<TrainedModel> {
  const result = await readWorkerResult(dir);
  if (!result) {
    throw new ValidationError({
      subject: `training output in ${dir}`,
      issues: [{ path: join(OUTPUT_DIR, RESULT_FILE), message: 'missing: the job has not finished' }],
      hint: 'Rerun the same command to resume the job.',
    });
  }
  const output = join(dir, OUTPUT_DIR);
  const at = (path: string | undefined) => (path === undefined ? undefined : isAbsolute(path) ? path : resolve(output, path));
  const model = at(result.model)!;
  const artifacts: TrainedModel['artifacts'] = { model };
  for (const key of ['tokenizer', 'adapter', 'merged'] as const) {
    const value = at(result[key]);
    if (value) artifacts[key] = value;
  }
  return {
    backend,
    reference: artifacts.merged ?? model,
    kind: 'local-folder',
    baseModel: job.baseModel,
    method: job.method,
    artifacts,
    metrics: result.metrics,
    jobId,
  };
}

import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { resolveModelReference } from './python-path.js';
import { ValidationError, writeJsonAtomic, type TrainedModel, type TrainingJobSpec, type ValidationIssue } from '@prompt2model/core';

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

export const JOB_CONFIG_FILE = 'job.json';
export const OUTPUT_DIR = 'output';
export const RESULT_FILE = 'result.json';

/** Writes job.json and copies the data into `dir`; returns the config path. */
export async function prepareJobFolder(dir: string, job: TrainingJobSpec): Promise<string> {
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, OUTPUT_DIR), { recursive: true });
  await copyFile(job.data.train, join(dir, 'data', 'train.jsonl'));
  if (job.data.validation) await copyFile(job.data.validation, join(dir, 'data', 'validation.jsonl'));
  const config: WorkerConfig = {
    protocolVersion: WORKER_PROTOCOL_VERSION,
    job: {
      ...job,
      // The worker runs inside the job folder: a relative --base-model must not change meaning there.
      baseModel: resolveModelReference(job.baseModel),
      data: { train: 'data/train.jsonl', ...(job.data.validation ? { validation: 'data/validation.jsonl' } : {}) },
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

/** Checks the worker's result file (zod is not a dependency of this package; the shape is small). */
export function parseWorkerResult(value: unknown): { result?: WorkerResult; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  if (!value || typeof value !== 'object') return { issues: [{ path: '', message: 'expected an object' }] };
  const record = value as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '') issues.push({ path: 'model', message: 'expected a path' });
  for (const key of ['tokenizer', 'adapter', 'merged'] as const) {
    if (record[key] !== undefined && record[key] !== null && typeof record[key] !== 'string') issues.push({ path: key, message: 'expected a path' });
  }
  const metrics: Record<string, number> = {};
  if (record.metrics !== undefined) {
    if (!record.metrics || typeof record.metrics !== 'object') issues.push({ path: 'metrics', message: 'expected an object' });
    else for (const [key, metric] of Object.entries(record.metrics)) if (typeof metric === 'number' && Number.isFinite(metric)) metrics[key] = metric;
  }
  if (issues.length > 0) return { issues };
  const result: WorkerResult = { model: record.model as string, metrics };
  for (const key of ['tokenizer', 'adapter', 'merged'] as const) if (typeof record[key] === 'string') result[key] = record[key] as string;
  return { result, issues };
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

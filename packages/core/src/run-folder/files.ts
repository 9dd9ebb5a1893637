import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors/validation-error.js';

/**
 * `generation-summary.json`: the dataset generator writes it, the pipeline's checks, the report and
 * the model card read it. Validated loosely so older or newer summaries still read.
 */
export const GenerationSummaryFileSchema = z
  .object({
    count: z.number().int().nonnegative(),
    target: z.number().optional(),
    /** `target`, `budget` or `exhausted` for the default generator; your own may say other reasons. */
    stoppedBy: z.string().optional(),
    /** Estimated label noise from the teacher's votes; absent in summaries written before the estimate existed. */
    labelNoise: z.object({ estimatedNoise: z.number(), expectedAccuracy: z.number() }).loose().optional(),
    /** Mean self-consistency agreement of the kept examples' answers, 0..1. */
    meanAgreement: z.number().min(0).max(1).optional(),
    /** Candidates dropped as exact or near duplicates of kept examples. */
    duplicates: z.number().int().nonnegative().optional(),
    /** Candidates dropped because they matched the test split or the prompt's demonstrations. */
    decontaminated: z.number().int().nonnegative().optional(),
    teacher: z.string().optional(),
    costUsd: z.number().optional(),
  })
  .loose();
export type GenerationSummaryFile = z.infer<typeof GenerationSummaryFileSchema>;

/** `retrieved-summary.json`: how many retrieved examples `retrieved.jsonl` holds. */
export const RetrievedSummarySchema = z.object({ count: z.number().int().nonnegative() }).loose();
export type RetrievedSummary = z.infer<typeof RetrievedSummarySchema>;

/** `training/estimate.json`: the trainer writes it before launching; the model card reads the job from it. */
export const TrainingEstimateFileSchema = z
  .object({
    backend: z.string(),
    job: z.object({ baseModel: z.string(), architecture: z.string().optional(), method: z.string().optional() }).loose(),
    estimate: z.record(z.string(), z.unknown()),
  })
  .loose();

/** A training job's `output/result.json`, written by the Python worker: paths relative to `output/`. */
export const WorkerResultSchema = z.object({
  model: z.string().min(1),
  tokenizer: z.string().nullish(),
  adapter: z.string().nullish(),
  merged: z.string().nullish(),
  metrics: z.record(z.string(), z.unknown()).optional(),
});
export type WorkerResultFile = z.infer<typeof WorkerResultSchema>;

/**
 * Reads a JSON file of a run (or job) folder and checks it with its schema: undefined when the file
 * is not there, a ValidationError naming the file when it is damaged.
 */
export async function readRunFile<T>(dir: string, name: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const path = join(dir, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError({ subject: path, issues: [{ path: '', message: 'not valid JSON' }], hint: 'Delete the file and rerun the step that writes it.' });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw ValidationError.fromZod(path, parsed.error, 'Delete the file and rerun the step that writes it.');
  return parsed.data;
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { lazySchema } from '../util/lazy-zod.js';
import { ValidationError } from '../errors/validation-error.js';

/**
 * `generation-summary.json`: the dataset generator writes it, the pipeline's checks, the report and
 * the model card read it. Validated loosely so older or newer summaries still read.
 */
export const GenerationSummaryFileSchema = lazySchema((z) =>
  z
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
    .loose(),
);
export type GenerationSummaryFile = z.infer<typeof GenerationSummaryFileSchema>;

/** `retrieved-summary.json`: how many retrieved examples `retrieved.jsonl` holds. */
export const RetrievedSummarySchema = lazySchema((z) => z.object({ count: z.number().int().nonnegative() }).loose());
export type RetrievedSummary = z.infer<typeof RetrievedSummarySchema>;

/** `training/estimate.json`: the trainer writes it before launching; the model card reads the job from it. */
export const TrainingEstimateFileSchema = lazySchema((z) =>
  z
    .object({
      backend: z.string(),
      job: z.object({ baseModel: z.string(), architecture: z.string().optional(), method: z.string().optional() }).loose(),
      estimate: z.record(z.string(), z.unknown()),
    })
    .loose(),
);

/** A training job's `output/result.json`, written by the Python worker: paths relative to `output/`. */
export const WorkerResultSchema = lazySchema((z) =>
  z.object({
    model: z.string().min(1),
    tokenizer: z.string().nullish(),
    adapter: z.string().nullish(),
    merged: z.string().nullish(),
    metrics: z.record(z.string(), z.unknown()).optional(),
  }),
);
export type WorkerResultFile = z.infer<typeof WorkerResultSchema>;

/** One candidate threshold of the cascade: the student keeps answers whose confidence is at least `threshold`. */
export const CalibrationPointSchema = lazySchema((z) =>
  z.object({
    threshold: z.number(),
    /** Share of the held-out inputs the student answers (the rest go to the teacher), 0..1. */
    coverage: z.number().min(0).max(1),
    /** The cascade's score on the held-out references with the primary metric. */
    quality: z.number(),
    /** `quality` over the teacher's own score (1 = as good as the teacher); absent when the teacher scored 0. */
    relativeQuality: z.number().optional(),
  }),
);
export type CalibrationPoint = z.infer<typeof CalibrationPointSchema>;

/**
 * `calibration.json`: the student→teacher cascade calibrated on held-out data the student was not
 * trained on. The evaluator writes it; the report, the model card and `serve --cascade` read it.
 */
export const CascadeCalibrationSchema = lazySchema((z) =>
  z
    .object({
      version: z.literal(1),
      createdAt: z.string(),
      /** Which split the curve was measured on (`validation`: never trained on), its file and size. */
      heldOut: z.object({ split: z.string(), file: z.string(), count: z.number().int().nonnegative() }),
      /** The primary metric (result key of the evaluator's metrics: `exact_match`, `chrf++`, ...). */
      metric: z.string(),
      /** The chosen threshold keeps at least this share of the teacher's quality. */
      targetQuality: z.number(),
      student: z.object({ model: z.string(), quality: z.number(), costPer1000Usd: z.number() }),
      teacher: z.object({
        model: z.string(),
        quality: z.number(),
        /** Measured on the held-out calls (cached ones included, at list price). */
        requests: z.number().int().nonnegative(),
        cachedRequests: z.number().int().nonnegative(),
        inputTokens: z.number().nonnegative(),
        outputTokens: z.number().nonnegative(),
        costUsd: z.number().nonnegative(),
        /** USD per 1M tokens, when the price table knows the model. */
        price: z.object({ inputPer1M: z.number(), outputPer1M: z.number() }).optional(),
      }),
      /** Every candidate threshold, from the lowest (most traffic kept by the student) up. */
      curve: z.array(CalibrationPointSchema),
      /**
       * The default threshold: the lowest that keeps the most traffic on the student while the
       * cascade keeps `targetQuality` of the teacher's quality; `null` when none does (every call
       * goes to the teacher).
       */
      chosen: z.object({ threshold: z.number().nullable(), coverage: z.number(), quality: z.number(), relativeQuality: z.number().optional() }),
      /** Expected cost per 1,000 calls: the teacher alone, the student alone, the cascade at the chosen threshold. */
      costPer1000: z.object({ teacherOnlyUsd: z.number(), studentOnlyUsd: z.number(), cascadeUsd: z.number(), priced: z.boolean() }),
      /** The held-out rows: enough to redraw the curve with another target without calling anyone. */
      rows: z
        .array(
          z.object({
            input: z.string(),
            reference: z.union([z.string(), z.array(z.string())]),
            student: z.string(),
            teacher: z.string(),
            confidence: z.number().nullable(),
          }),
        )
        .optional(),
    })
    .loose(),
);
export type CascadeCalibration = z.infer<typeof CascadeCalibrationSchema>;

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

import { InvalidArgumentError } from './errors/invalid-argument-error.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonlWriter, readJsonl } from './jsonl.js';
import { ExampleSchema, type DatasetSplits, type Example, type ExampleSource } from './schemas.js';
import { sha256 } from './util/hash.js';

export interface SplitRatios {
  /** Share of examples for validation, in [0, 1). Default 0.1. */
  validation?: number;
  /** Share of examples for test, in [0, 1). Default 0.1. */
  test?: number;
  /** Changes the assignment while keeping it deterministic. */
  seed?: string | number;
}

export interface ExampleSplits<T extends Example = Example> {
  train: T[];
  validation: T[];
  test: T[];
}

/**
 * Splits examples by a hash of their normalised input, so the split is deterministic and the same
 * input (even repeated) never lands in both train and test.
 */
export function splitExamples<T extends Example>(examples: readonly T[], ratios: SplitRatios = {}): ExampleSplits<T> {
  const validation = ratios.validation ?? 0.1;
  const test = ratios.test ?? 0.1;
  checkSplitRatios(validation, test);
  const seed = String(ratios.seed ?? 0);
  const out: ExampleSplits<T> = { train: [], validation: [], test: [] };
  for (const example of examples) {
    const bucket = splitBucket(example.input, seed);
    if (bucket < test) out.test.push(example);
    else if (bucket < test + validation) out.validation.push(example);
    else out.train.push(example);
  }
  return out;
}

/** A number in [0, 1) derived from the normalised input and a seed. */
export function splitBucket(input: string, seed: string | number = 0): number {
  const hex = sha256(`${seed}\u0000${input.trim().toLowerCase().replace(/\s+/g, ' ')}`).slice(0, 12);
  return parseInt(hex, 16) / 2 ** 48;
}

/** Identity of an input for de-duplication across sources: NFKC, lower case, collapsed whitespace. */
function normalizedInputKey(input: string): string {
  return sha256(input.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim()).slice(0, 20);
}

export interface SplitSource {
  /** JSON Lines file of examples. */
  path: string;
  /** Recorded in `meta.source` of rows that lack one. */
  source?: ExampleSource;
  /** Use at most this many rows of the file (e.g. cap retrieved data). */
  maxExamples?: number;
}

export interface SplitDatasetFilesOptions extends SplitRatios {
  sources: SplitSource[];
  /** Folder for `train.jsonl`, `validation.jsonl`, `test.jsonl`. */
  outDir: string;
  /** Keep only the first row of each normalised input across all sources. Default true. */
  dedupe?: boolean;
  /**
   * Keep rows from these sources out of validation and test (e.g. `['generated']` to evaluate on
   * retrieved data only); they all go to training. Default: none.
   */
  trainOnlySources?: ExampleSource[];
  /**
   * Builds a check from the finished test split; rows of `trainOnlySources` that it flags are
   * dropped (decontamination of retrieved data against the test set). Those sources are read
   * after the others, so the test split is complete when the check is built.
   */
  contamination?: (testSet: readonly Example[]) => { isContaminated(example: Example): boolean };
}

/**
 * Streams generated and retrieved data into train/validation/test files. Assignment uses core's
 * `splitBucket` (a hash of the normalised input), so it matches `splitExamples`, is stable when
 * rows are added, and the same input never lands in two splits. Memory holds only input hashes.
 */
export async function splitDatasetFiles(options: SplitDatasetFilesOptions): Promise<DatasetSplits & { duplicates: number; contaminated: number }> {
  const validation = options.validation ?? 0.1;
  const test = options.test ?? 0.1;
  checkSplitRatios(validation, test);
  const seed = options.seed ?? 0;
  await mkdir(options.outDir, { recursive: true });
  const files = { train: 'train.jsonl', validation: 'validation.jsonl', test: 'test.jsonl' } as const;
  const writers = {
    train: await JsonlWriter.open(join(options.outDir, files.train), { truncate: true }),
    validation: await JsonlWriter.open(join(options.outDir, files.validation), { truncate: true }),
    test: await JsonlWriter.open(join(options.outDir, files.test), { truncate: true }),
  };
  const counts = { train: 0, validation: 0, test: 0 };
  const seen = new Set<string>();
  let duplicates = 0;
  let contaminated = 0;
  const trainOnly = (source: SplitSource) => source.source !== undefined && (options.trainOnlySources?.includes(source.source) ?? false);
  const ordered = options.contamination ? [...options.sources.filter((s) => !trainOnly(s)), ...options.sources.filter(trainOnly)] : options.sources;
  const testRows: Example[] = [];
  let check: { isContaminated(example: Example): boolean } | undefined;
  try {
    for (const source of ordered) {
      let used = 0;
      if (options.contamination && trainOnly(source)) check ??= options.contamination(testRows);
      for await (const row of readJsonl<Example>(source.path, { schema: ExampleSchema, tolerateTruncatedTail: true })) {
        if (source.maxExamples !== undefined && used >= source.maxExamples) break;
        if (check && trainOnly(source) && check.isContaminated(row)) {
          contaminated++;
          continue;
        }
        const key = normalizedInputKey(row.input);
        if ((options.dedupe ?? true) && seen.has(key)) {
          duplicates++;
          continue;
        }
        seen.add(key);
        used++;
        const example: Example =
          source.source && !row.meta?.source ? { ...row, meta: { ...row.meta, source: source.source } } : row;
        const origin = example.meta?.source;
        const bucket = origin && options.trainOnlySources?.includes(origin) ? 1 : splitBucket(row.input, seed);
        const split = bucket < test ? 'test' : bucket < test + validation ? 'validation' : 'train';
        await writers[split].write(example);
        counts[split]++;
        if (options.contamination && split === 'test') testRows.push(example);
      }
    }
  } finally {
    await Promise.all(Object.values(writers).map((writer) => writer.close()));
  }
  return { ...files, counts, duplicates, contaminated };
}

/** Split shares must be non-negative and leave training data: `validation` + `test` < 1. */
function checkSplitRatios(validation: number, test: number): void {
  if (validation < 0 || test < 0 || validation + test >= 1) {
    throw new InvalidArgumentError({
      argument: validation < 0 ? 'validation' : test < 0 ? 'test' : 'validation + test',
      value: { validation, test },
      message: `Split ratios must be non-negative and leave room for training data (validation + test < 1), got validation ${validation} and test ${test}.`,
      hint: 'Use shares such as validation 0.1 and test 0.1.',
    });
  }
}

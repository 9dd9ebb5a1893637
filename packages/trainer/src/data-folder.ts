import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetSplitsSchema, PromptSpecSchema, RUN_FILES, runStep, splitDatasetFiles, ValidationError, type StageContext } from '@prompt2model/core/internal';

/** A folder of training data, checked (nothing written yet). */
export interface TrainingDataFolder {
  /** The folder, absolute. */
  dir: string;
  /** The instruction of the folder's prompt-spec.json, when it has a valid one. */
  instruction?: string;
  /**
   * The files a training job reads: train.jsonl, and validation.jsonl when it has rows. A folder
   * with dataset.jsonl only (the run folder of a dataset generation) is split first into
   * train/validation/test.jsonl in the context's run folder, by input hash as the Pipeline splits
   * (no input in two splits; test.jsonl stays for evaluation), recorded as the run's `split` step
   * so a rerun does not split again.
   */
  files(context: StageContext): Promise<{ train: string; validation?: string }>;
}

/**
 * Opens a folder of training data: train.jsonl (+ validation.jsonl), or a dataset generation's
 * dataset.jsonl. A folder with neither is a ValidationError, raised before anything is written.
 */
export async function openTrainingData(folder: string): Promise<TrainingDataFolder> {
  const dataDir = resolve(folder);
  const hasSplits = existsSync(join(dataDir, RUN_FILES.train));
  if (!hasSplits && !existsSync(join(dataDir, RUN_FILES.dataset))) {
    throw new ValidationError({
      subject: `training data folder ${dataDir}`,
      issues: [{ path: '', message: `No ${RUN_FILES.train} (or ${RUN_FILES.dataset}) in ${dataDir}` }],
      hint: 'Give a folder with train.jsonl (and optionally validation.jsonl), or the run folder of a dataset generation (dataset.jsonl).',
    });
  }
  const instruction = await instructionOf(dataDir);
  return {
    dir: dataDir,
    ...(instruction !== undefined ? { instruction } : {}),
    async files(context) {
      const splitDir = hasSplits ? dataDir : await splitGenerated(dataDir, context);
      const validation = join(splitDir, RUN_FILES.validation);
      return { train: join(splitDir, RUN_FILES.train), ...(existsSync(validation) && (await hasRows(validation)) ? { validation } : {}) };
    },
  };
}

async function splitGenerated(dataDir: string, context: StageContext): Promise<string> {
  await runStep(context, 'split', RUN_FILES.splits, DatasetSplitsSchema, async () => {
    const { duplicates: _duplicates, contaminated: _contaminated, ...splits } = await splitDatasetFiles({
      outDir: context.store.dir,
      sources: [{ path: join(dataDir, RUN_FILES.dataset), source: 'generated' }],
    });
    const { counts } = splits;
    context.events.log('info', `Split ${counts.train + counts.validation + counts.test} generated examples: ${counts.train} train, ${counts.validation} validation, ${counts.test} test.`, 'split');
    return splits;
  });
  return context.store.dir;
}

async function hasRows(path: string): Promise<boolean> {
  return (await readFile(path, 'utf8')).trim() !== '';
}

async function instructionOf(dir: string): Promise<string | undefined> {
  const path = join(dir, RUN_FILES.promptSpec);
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = PromptSpecSchema.safeParse(value);
  return parsed.success ? parsed.data.instruction : undefined;
}

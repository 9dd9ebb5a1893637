import { lazySchema } from '@prompt2model/core/internal';

/** One dataset to index: the rows of `datasets.jsonl` (`id`, `description`, `evaluationMetadata`), plus what a Hub listing adds. */
export const DatasetRecordSchema = lazySchema((z) =>
  z.looseObject({
    id: z.string().min(1),
    description: z.string().nullish(),
    /** The card's `train-eval-index`: `[{config, task, task_id, splits, col_mapping}]` (`{}` when absent). */
    evaluationMetadata: z.unknown().optional(),
    downloads: z.number().nullish(),
    gated: z.union([z.literal(false), z.string()]).nullish(),
    tags: z.array(z.string()).nullish(),
  }),
);
export interface DatasetRecord {
  id: string;
  description?: string | null;
  evaluationMetadata?: unknown;
  downloads?: number | null;
  gated?: false | string | null;
  tags?: string[] | null;
}

/** One `train-eval-index` entry, the parts this package reads. */
export interface EvaluationEntry {
  config?: string;
  task?: string;
  task_id?: string;
  splits?: { train_split?: string; eval_split?: string };
  col_mapping?: Record<string, unknown>;
}

/** The evaluation entries of a record (the field is a list, or `{}` when the card has none). */
export function evaluationEntries(value: unknown): EvaluationEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is EvaluationEntry => entry !== null && typeof entry === 'object');
}

/**
 * The text of a dataset that is indexed: the id's words twice (names are the most precise signal:
 * `squad`, `cnn_dailymail`), the task types of its evaluation metadata, its task tags, and the description.
 */
export function datasetSearchText(record: { id: string; description?: string | null; evaluationMetadata?: unknown; tags?: string[] | null }): string {
  const name = record.id.replace(/[/_.-]+/g, ' ');
  const tasks = evaluationEntries(record.evaluationMetadata).flatMap((entry) => [entry.task ?? '', entry.task_id ?? ''].map((task) => task.replace(/[_-]+/g, ' ')));
  const tags = (record.tags ?? []).filter((tag) => /^(task_categories|task_ids|language):/.test(tag)).map((tag) => tag.split(':')[1]!.replace(/[_-]+/g, ' '));
  return [name, name, tasks.join(' '), tags.join(' '), record.description ?? ''].join('\n');
}

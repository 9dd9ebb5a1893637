import { readFile } from 'node:fs/promises';
import { ModelArchitectureSchema, Prompt2ModelError, ValidationError, writeFileAtomic } from '@prompt2model/core';
import { z } from 'zod';
import { Bm25Index, PersistedBm25Schema } from '@prompt2model/bm25';
import type { IndexedModel } from './model-index.js';

/**
 * The saved model index file: one JSON document, metadata in columns plus the compact BM25
 * postings. Kept apart from the search code so the format can change (a new version) in one place.
 */
const FORMAT = 'prompt2model.model-index';

const nullableNumbers = z.array(z.number().nullable());
const PersistedModelIndexSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  createdAt: z.string(),
  source: z.string().optional(),
  // Columns rather than one object per model: smaller and faster to parse.
  models: z.object({
    id: z.array(z.string()),
    sizeBytes: nullableNumbers,
    downloads: nullableNumbers,
    parameters: nullableNumbers,
    architecture: z.array(ModelArchitectureSchema),
    license: z.array(z.string().nullable()),
  }),
  bm25: PersistedBm25Schema,
});
export type PersistedModelIndex = z.infer<typeof PersistedModelIndexSchema>;

/** What a ModelIndex is made of, as read from or written to the file. */
export interface ModelIndexParts {
  entries: readonly IndexedModel[];
  bm25: Bm25Index;
  createdAt: string;
  source?: string;
}

/** Reads and JSON-parses a saved index, with errors that say how to make one. */
export async function readModelIndexFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Prompt2ModelError({
      message: `Cannot read the model index ${path}: ${(error as Error).message}`,
      hint: 'Build one with `prompt2model index build --out <file>`, or pass a JSON Lines snapshot as `index`.',
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError({
      subject: `model index ${path}`,
      issues: [{ path: '', message: `not valid JSON (${(error as Error).message})` }],
      hint: 'Rebuild it with `prompt2model index build`.',
    });
  }
}

/** Validates a parsed index file and rebuilds its entries and BM25 postings. */
export function parseModelIndex(value: unknown, subject = 'model index'): ModelIndexParts & { entries: IndexedModel[] } {
  const parsed = PersistedModelIndexSchema.safeParse(value);
  if (!parsed.success) {
    throw ValidationError.fromZod(subject, parsed.error, 'The file is not a saved model index; rebuild it with `prompt2model index build`.');
  }
  const { models, bm25, createdAt, source } = parsed.data;
  const count = models.id.length;
  for (const [name, column] of Object.entries(models)) {
    if (column.length !== count) {
      throw new ValidationError({ subject, issues: [{ path: `models.${name}`, message: `has ${column.length} rows, expected ${count}` }] });
    }
  }
  if (bm25.ids.length !== count) {
    throw new ValidationError({ subject, issues: [{ path: 'bm25.ids', message: `${bm25.ids.length} documents for ${count} models` }] });
  }
  const entries: IndexedModel[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const entry: IndexedModel = { id: models.id[i]!, architecture: models.architecture[i]! };
    const sizeBytes = models.sizeBytes[i];
    const downloads = models.downloads[i];
    const parameters = models.parameters[i];
    const license = models.license[i];
    if (sizeBytes != null) entry.sizeBytes = sizeBytes;
    if (downloads != null) entry.downloads = downloads;
    if (parameters != null) entry.parameters = parameters;
    if (license != null) entry.license = license;
    entries[i] = entry;
  }
  return { entries, bm25: Bm25Index.fromJSON(bm25), createdAt, ...(source ? { source } : {}) };
}

/** The file form of an index. */
export function serializeModelIndex(parts: ModelIndexParts): PersistedModelIndex {
  const { entries } = parts;
  return {
    format: FORMAT,
    version: 1,
    createdAt: parts.createdAt,
    ...(parts.source ? { source: parts.source } : {}),
    models: {
      id: entries.map((entry) => entry.id),
      sizeBytes: entries.map((entry) => entry.sizeBytes ?? null),
      downloads: entries.map((entry) => entry.downloads ?? null),
      parameters: entries.map((entry) => entry.parameters ?? null),
      architecture: entries.map((entry) => entry.architecture),
      license: entries.map((entry) => entry.license ?? null),
    },
    bm25: parts.bm25.toJSON(),
  };
}

/** Writes the file atomically: readers never see half a file. */
export async function writeModelIndexFile(path: string, value: PersistedModelIndex): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value));
}

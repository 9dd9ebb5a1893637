import {
  lazySchema,
  MODEL_ARCHITECTURES,
  type ModelArchitecture,
  ModelArchitectureSchema,
  Prompt2ModelError,
  ValidationError,
  writeFileAtomic,
} from '@prompt2model/core/internal';
import type { z } from 'zod';
import { BinaryFileReader, BinaryFileWriter, Bm25Index, PersistedBm25Schema, readIndexFile } from '@prompt2model/bm25';
import type { IndexedModel } from './model-index.js';

/**
 * The saved model index file. Since version 2 it is binary (`BinaryFileWriter` sections): the model
 * metadata in columns (numbers as float64 with NaN for "unknown", architectures and licenses as
 * codes into small name lists) plus the BM25 score matrix, so loading is one read and typed-array
 * views, no JSON. Version 1 files (one JSON document) still load. Kept apart from the search code
 * so the format changes in one place.
 */
const FORMAT = 'prompt2model.model-index';
const MAGIC = 'P2MINDEX';
const BINARY_VERSION = 2;
const rebuildHint = 'Rebuild it with `prompt2model index build`.';

const nullableNumbers = lazySchema((z) => z.array(z.number().nullable()));
const PersistedModelIndexSchema = lazySchema((z) =>
  z.object({
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
  }),
);
export type PersistedModelIndex = z.infer<typeof PersistedModelIndexSchema>;

/** What a ModelIndex is made of, as read from or written to the file. */
export interface ModelIndexParts {
  entries: readonly IndexedModel[];
  bm25: Bm25Index;
  createdAt: string;
  source?: string;
}

/** Reads a saved index (binary, or a version 1 JSON file), with errors that say how to make one. */
export async function readModelIndexFile(path: string): Promise<ModelIndexParts & { entries: IndexedModel[] }> {
  let bytes: Buffer;
  try {
    // Into the BM25 kernels' memory: the postings are searched where they are read.
    bytes = await readIndexFile(path);
  } catch (error) {
    throw new Prompt2ModelError({
      message: `Cannot read the model index ${path}: ${(error as Error).message}`,
      hint: 'Build one with `prompt2model index build --out <file>`, or pass a JSON Lines snapshot as `index`.',
      cause: error,
    });
  }
  const subject = `model index ${path}`;
  if (BinaryFileReader.hasMagic(bytes, MAGIC)) return decodeModelIndex(bytes, subject);
  const start = bytes.subarray(0, 64).toString('utf8').trimStart();
  if (!start.startsWith('{')) {
    throw new ValidationError({
      subject,
      issues: [{ path: '', message: 'not a saved model index (neither the binary index format nor JSON)' }],
      hint: `${rebuildHint} A JSON Lines card snapshot needs a .jsonl name.`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ValidationError({ subject, issues: [{ path: '', message: `not valid JSON (${(error as Error).message})` }], hint: rebuildHint });
  }
  return parseModelIndex(value, subject);
}

/** The binary file form of an index (see the top of this file). */
export function encodeModelIndex(parts: ModelIndexParts): Uint8Array {
  const { entries } = parts;
  const count = entries.length;
  const numbers = (pick: (entry: IndexedModel) => number | undefined) => {
    const column = new Float64Array(count);
    entries.forEach((entry, i) => (column[i] = pick(entry) ?? Number.NaN));
    return column;
  };
  const architectures = MODEL_ARCHITECTURES;
  const licenses = [...new Set(entries.flatMap((entry) => (entry.license === undefined ? [] : [entry.license])))];
  const licenseCode = new Map(licenses.map((license, code) => [license, code]));
  const writer = new BinaryFileWriter(MAGIC, BINARY_VERSION)
    .text('format', FORMAT)
    .text('createdAt', parts.createdAt)
    .text('source', parts.source ?? '')
    .strings('models.id', entries.map((entry) => entry.id))
    .float64('models.sizeBytes', numbers((entry) => entry.sizeBytes))
    .float64('models.downloads', numbers((entry) => entry.downloads))
    .float64('models.parameters', numbers((entry) => entry.parameters))
    .strings('models.architectureNames', architectures)
    .uint8('models.architecture', Uint8Array.from(entries, (entry) => architectures.indexOf(entry.architecture)))
    .strings('models.licenseNames', licenses)
    .int32('models.license', Int32Array.from(entries, (entry) => (entry.license === undefined ? -1 : licenseCode.get(entry.license)!)));
  parts.bm25.writeTo(writer, 'bm25');
  return writer.toBytes();
}

/** Reads the binary form; every inconsistency is a ValidationError that says to rebuild. */
export function decodeModelIndex(bytes: Uint8Array, subject = 'model index'): ModelIndexParts & { entries: IndexedModel[] } {
  const reader = new BinaryFileReader(bytes, MAGIC, subject, `The file is damaged or from another version. ${rebuildHint}`);
  if (reader.version !== BINARY_VERSION) reader.fail('', `is version ${reader.version} of the index format; this prompt2model reads version ${BINARY_VERSION}`);
  if (reader.text('format') !== FORMAT) reader.fail('format', `is not ${FORMAT}`);
  const ids = reader.strings('models.id');
  const count = ids.length;
  const column = <T extends { length: number }>(name: string, values: T): T => {
    if (values.length !== count) reader.fail(name, `has ${values.length} rows, expected ${count}`);
    return values;
  };
  const sizeBytes = column('models.sizeBytes', reader.float64('models.sizeBytes'));
  const downloads = column('models.downloads', reader.float64('models.downloads'));
  const parameters = column('models.parameters', reader.float64('models.parameters'));
  const architectureNames = reader.strings('models.architectureNames');
  for (const name of architectureNames) {
    if (!(MODEL_ARCHITECTURES as readonly string[]).includes(name)) reader.fail('models.architectureNames', `unknown architecture "${name}"`);
  }
  const architecture = column('models.architecture', reader.uint8('models.architecture'));
  const licenseNames = reader.strings('models.licenseNames');
  const license = column('models.license', reader.int32('models.license'));
  const entries: IndexedModel[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const name = architectureNames[architecture[i]!];
    if (name === undefined) reader.fail('models.architecture', `row ${i} has an unknown architecture code`);
    const entry: IndexedModel = { id: ids[i]!, architecture: name as ModelArchitecture };
    if (!Number.isNaN(sizeBytes[i]!)) entry.sizeBytes = sizeBytes[i]!;
    if (!Number.isNaN(downloads[i]!)) entry.downloads = downloads[i]!;
    if (!Number.isNaN(parameters[i]!)) entry.parameters = parameters[i]!;
    const code = license[i]!;
    if (code >= 0) {
      const value = licenseNames[code];
      if (value === undefined) reader.fail('models.license', `row ${i} has an unknown license code`);
      entry.license = value;
    }
    entries[i] = entry;
  }
  const bm25 = Bm25Index.readFrom(reader, 'bm25');
  if (bm25.size !== count) reader.fail('bm25.ids', `${bm25.size} documents for ${count} models`);
  const source = reader.text('source');
  return { entries, bm25, createdAt: reader.text('createdAt'), ...(source ? { source } : {}) };
}

/** Validates a version 1 (JSON) index and rebuilds its entries and BM25 postings. */
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

/** The version 1 (JSON) form of an index: what `ModelIndex.toJSON` returns. */
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

/** Writes the binary file atomically: readers never see half a file. */
export async function writeModelIndexFile(path: string, parts: ModelIndexParts): Promise<void> {
  await writeFileAtomic(path, encodeModelIndex(parts));
}

import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import {
  hashValue,
  lazySchema,
  prompt2modelCacheDir,
  Prompt2ModelError,
  readJsonl,
  ValidationError,
  writeJsonAtomic,
} from '@prompt2model/core/internal';
import { Bm25Index, PersistedBm25Schema } from '@prompt2model/bm25';
import { DatasetRecordSchema, datasetSearchText, type DatasetRecord } from './dataset-record.js';

/** What the index keeps about each dataset. */
export interface IndexedDataset {
  id: string;
  description: string;
  downloads?: number;
  /** `false`, `auto` or `manual` (Hub listings); unknown for snapshots without the field. */
  gated?: false | string;
  evaluationMetadata?: unknown;
  tags?: string[];
}

export interface DatasetSearchOptions {
  /** How many candidates. Default 5. */
  topK?: number;
  /** Dataset ids to leave out (the ones you evaluate on). Case-insensitive; `org/name` or `name`. */
  exclude?: string[];
  /** Keep gated datasets (they need HF_TOKEN and accepted terms to load). Default false. */
  includeGated?: boolean;
}

export interface RankedDataset extends IndexedDataset {
  /** Final ranking score: BM25 relevance (popularity only breaks near-ties). */
  score: number;
  relevance: number;
}

export interface DatasetSearchResult {
  candidates: RankedDataset[];
  matched: number;
  excluded: { byName: number; gated: number };
}

const FORMAT = 'prompt2model.dataset-index';
const PersistedDatasetIndexSchema = lazySchema((z) =>
  z.object({
    format: z.literal(FORMAT),
    version: z.literal(1),
    /** What the index was built from: a snapshot's path, size and modification time. */
    key: z.string(),
    source: z.string().optional(),
    entries: z.array(
      z.object({ id: z.string(), description: z.string(), downloads: z.number().optional(), gated: z.union([z.literal(false), z.string()]).optional(), evaluationMetadata: z.unknown().optional(), tags: z.array(z.string()).optional() }),
    ),
    bm25: PersistedBm25Schema,
  }),
);

/**
 * Popularity breaks near-ties and never outweighs relevance: each tenfold in downloads adds 1% of
 * the best match's relevance, so a dataset downloaded a million times more gains 6% at most.
 */
const popularityWeight = 0.01;

/**
 * Hugging Face datasets indexed for retrieval: BM25 (the model retriever's `Bm25Index`, same text
 * preparation) over id words and description. Build it from records, a JSON Lines snapshot, or a
 * Hub listing, then `search` with an instruction or a HyDE description.
 */
export class DatasetIndex {
  private readonly byId: Map<string, number>;

  private constructor(
    private readonly entries: IndexedDataset[],
    private readonly bm25: Bm25Index,
    readonly source: string | undefined,
  ) {
    this.byId = new Map(entries.map((entry, index) => [entry.id.toLowerCase(), index]));
  }

  get size(): number {
    return this.entries.length;
  }

  datasets(): readonly IndexedDataset[] {
    return this.entries;
  }

  get(id: string): IndexedDataset | undefined {
    const index = this.byId.get(id.toLowerCase());
    return index === undefined ? undefined : this.entries[index];
  }

  /** Indexes records; a repeated id keeps its first record. */
  static async fromRecords(records: Iterable<DatasetRecord> | AsyncIterable<DatasetRecord>, options: { source?: string } = {}): Promise<DatasetIndex> {
    const bm25 = new Bm25Index();
    const entries: IndexedDataset[] = [];
    const seen = new Set<string>();
    let position = 0;
    for await (const raw of records) {
      position++;
      const parsed = DatasetRecordSchema.safeParse(raw);
      if (!parsed.success) throw ValidationError.fromZod(`dataset record #${position}`, parsed.error, 'Each line needs at least an "id" (and usually a "description").');
      const record = parsed.data;
      if (seen.has(record.id.toLowerCase())) continue;
      seen.add(record.id.toLowerCase());
      bm25.add(String(entries.length), datasetSearchText(record));
      entries.push({
        id: record.id,
        description: record.description ?? '',
        ...(record.downloads != null ? { downloads: record.downloads } : {}),
        ...(record.gated != null ? { gated: record.gated } : {}),
        ...(record.evaluationMetadata !== undefined ? { evaluationMetadata: record.evaluationMetadata } : {}),
        ...(record.tags ? { tags: record.tags } : {}),
      });
    }
    bm25.consolidate();
    return new DatasetIndex(entries, bm25, options.source);
  }

  /**
   * Indexes a JSON Lines snapshot (`{id, description, evaluationMetadata}` a line, as
   * `hub/datasets.jsonl`). The built index is cached (keyed by the file's path, size and
   * modification time), so a later search of the same snapshot loads it instead of re-tokenising.
   */
  static async fromJsonl(path: string, options: { cacheDir?: string | false } = {}): Promise<DatasetIndex> {
    let key: string;
    try {
      const info = await stat(path);
      key = hashValue({ path: resolve(path), size: info.size, mtimeMs: info.mtimeMs, prep: new Bm25Index().prep }).slice(0, 32);
    } catch (error) {
      throw new Prompt2ModelError({
        message: `Cannot read the dataset index ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        hint: 'Pass `index` with a JSON Lines file of {id, description, evaluationMetadata} rows, or leave `index` out to list the Hub.',
        cause: error,
      });
    }
    const cachePath = options.cacheDir === false ? undefined : join(options.cacheDir ?? join(prompt2modelCacheDir(), 'dataset-index'), `${key}.json`);
    if (cachePath) {
      const cached = await readFile(cachePath, 'utf8').then(
        (text) => PersistedDatasetIndexSchema.safeParse(JSON.parse(text)),
        () => undefined,
      );
      if (cached?.success && cached.data.key === key) return DatasetIndex.fromPersisted(cached.data);
    }
    const index = await DatasetIndex.fromRecords(readJsonl<DatasetRecord>(path), { source: path });
    // A cache that cannot be written (read-only home) only costs the next search its speed.
    if (cachePath) await writeJsonAtomic(cachePath, index.toJSON(key)).catch(() => undefined);
    return index;
  }

  private static fromPersisted(data: z.infer<typeof PersistedDatasetIndexSchema>): DatasetIndex {
    const entries = data.entries.map((entry) => Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined)) as unknown as IndexedDataset);
    return new DatasetIndex(entries, Bm25Index.fromJSON(data.bm25), data.source);
  }

  toJSON(key = ''): z.infer<typeof PersistedDatasetIndexSchema> {
    return { format: FORMAT, version: 1, key, ...(this.source ? { source: this.source } : {}), entries: this.entries, bm25: this.bm25.toJSON() };
  }

  /** Ranked candidates for a query (an instruction or a HyDE dataset description). */
  search(query: string, options: DatasetSearchOptions = {}): RankedDataset[] {
    return this.searchDetailed(query, options).candidates;
  }

  searchDetailed(query: string, options: DatasetSearchOptions = {}): DatasetSearchResult {
    const topK = options.topK ?? 5;
    const exclude = new Set((options.exclude ?? []).map((id) => id.toLowerCase()));
    const excluded = { byName: 0, gated: 0 };
    const { documents, scores } = this.bm25.scoreAll(query);
    let best = 0;
    for (const score of scores) best = Math.max(best, score);
    const kept: Array<{ position: number; relevance: number; score: number }> = [];
    for (let i = 0; i < documents.length; i++) {
      const position = documents[i]!;
      const entry = this.entries[position]!;
      if (isExcluded(entry.id, exclude)) {
        excluded.byName++;
        continue;
      }
      if (!options.includeGated && entry.gated && entry.gated !== 'false') {
        excluded.gated++;
        continue;
      }
      const relevance = scores[i]!;
      const popularity = entry.downloads ? Math.log10(entry.downloads + 1) : 0;
      kept.push({ position, relevance, score: relevance + popularityWeight * best * popularity });
    }
    kept.sort((a, b) => b.score - a.score || b.relevance - a.relevance || a.position - b.position);
    const candidates = kept.slice(0, topK).map(({ position, relevance, score }) => ({ ...this.entries[position]!, relevance, score }));
    return { candidates, matched: documents.length, excluded };
  }
}

/** `squad` excludes `squad` and `rajpurkar/squad`; `org/name` excludes exactly that id. */
function isExcluded(id: string, exclude: Set<string>): boolean {
  if (exclude.size === 0) return false;
  const lower = id.toLowerCase();
  return exclude.has(lower) || exclude.has(lower.split('/').pop()!);
}

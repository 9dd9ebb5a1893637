import {
  ModelArchitectureSchema,
  cooperativeTicker,
  throwIfAborted,
  ValidationError,
  readJsonl,
  type ModelArchitecture,
  type ModelCandidate,
  type Precision,
  type TrainingMethod,
} from '@prompt2model/core/internal';
import { z } from 'zod';
import { Bm25Index, type Bm25Options } from '@prompt2model/bm25';
import { parseModelIndex, readModelIndexFile, serializeModelIndex, writeModelIndexFile, type PersistedModelIndex } from './model-index-file.js';
import { estimateFineTuneMemory } from './memory.js';
import { cardSearchText, detectArchitecture, detectLicense, type ModelConfigHints } from './model-card.js';
import { defaultModelScorer, type ModelScorer } from './scoring.js';

/** One model card to index: the `{id, card, sizeBytes, downloads}` rows of a JSON Lines snapshot, plus optional hints. */
export const ModelCardRecordSchema = z
  .object({
    id: z.string().min(1),
    card: z.string().default(''),
    sizeBytes: z.number().nonnegative().nullish(),
    downloads: z.number().nonnegative().nullish(),
    /** Exact parameter count, when the source knows it (the Hub's safetensors metadata). */
    parameters: z.number().positive().nullish(),
    license: z.string().nullish(),
    architecture: ModelArchitectureSchema.nullish(),
    pipelineTag: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
    config: z
      .object({ architectures: z.array(z.string()).optional(), model_type: z.string().optional(), is_encoder_decoder: z.boolean().optional() })
      .loose()
      .nullish(),
  })
  .loose();
/** One card to index (extra fields are allowed and ignored). */
export interface ModelCardRecord {
  id: string;
  card?: string;
  sizeBytes?: number | null;
  downloads?: number | null;
  parameters?: number | null;
  license?: string | null;
  architecture?: ModelArchitecture | null;
  pipelineTag?: string | null;
  tags?: string[] | null;
  config?: ModelConfigHints | null;
}

/** What the index keeps about each model (cards are indexed, not stored). */
export interface IndexedModel {
  id: string;
  sizeBytes?: number;
  downloads?: number;
  parameters?: number;
  architecture: ModelArchitecture;
  license?: string;
}

export interface BuildModelIndexOptions extends Bm25Options {
  /** Called every 500 cards and at the end. */
  onProgress?: (done: number) => void;
  /** Where the cards came from (a file, a Hub URL): kept in the persisted index. */
  source?: string;
  /** Stops indexing (AbortError) when aborted: building from 10,000+ cards takes seconds. */
  signal?: AbortSignal;
}

export interface ModelSearchOptions {
  /** How many candidates to return. Default 5. */
  topK?: number;
  /** Largest weights size allowed, in bytes. Default 3 GB (3·10⁹); `null` disables the filter. */
  maxSizeBytes?: number | null;
  /** Keep models of unknown size (otherwise a size or memory filter drops them). Default false. */
  allowUnknownSize?: boolean;
  /** Allowed architectures; default any. */
  architectures?: ModelArchitecture[];
  /** Allowed licenses (case-insensitive, e.g. `apache-2.0`, `mit`); models with no license are dropped. Default any. */
  licenses?: string[];
  /** GPU memory budget in bytes; models whose estimated fine-tuning peak exceeds it are dropped. */
  gpuMemoryBytes?: number;
  /** Which fine-tuning the GPU budget must fit. Default `lora`. */
  trainingMethod?: TrainingMethod;
  sequenceLength?: number;
  batchSize?: number;
  precision?: Precision;
  /** Ranking function; default BM25 relevance with popularity as a tie-breaker (`popularityTieBreakScorer`). */
  scorer?: ModelScorer;
}

export interface RankedModel extends ModelCandidate {
  /** The BM25 relevance before the scorer combined it with popularity. */
  relevance: number;
}

export interface ModelSearchResult {
  candidates: RankedModel[];
  /** Models whose card matched at least one query term. */
  matched: number;
  /** How many matching models each filter removed (a model counts under the first filter it fails). */
  excluded: { size: number; unknownSize: number; architecture: number; license: number; gpuMemory: number };
}

export const DEFAULT_MAX_SIZE_BYTES = 3e9;
/**
 * Model cards indexed for retrieval: BM25 over the cleaned card text plus the metadata the filters
 * need (size, downloads, architecture, license). Build it from cards or a JSON Lines snapshot,
 * `save` it as JSON, and `load` it back in well under a second.
 */
export class ModelIndex {
  readonly createdAt: string;
  readonly source: string | undefined;
  private readonly byId: Map<string, number>;

  private constructor(
    private readonly entries: IndexedModel[],
    private readonly bm25: Bm25Index,
    meta: { createdAt: string; source?: string },
  ) {
    this.createdAt = meta.createdAt;
    this.source = meta.source;
    this.byId = new Map(entries.map((entry, index) => [entry.id, index]));
  }

  get size(): number {
    return this.entries.length;
  }

  get prep(): string {
    return this.bm25.prep;
  }

  models(): readonly IndexedModel[] {
    return this.entries;
  }

  get(id: string): IndexedModel | undefined {
    const index = this.byId.get(id);
    return index === undefined ? undefined : this.entries[index];
  }

  /** Indexes cards; a repeated id keeps its first card. */
  static async fromCards(
    cards: Iterable<ModelCardRecord> | AsyncIterable<ModelCardRecord>,
    options: BuildModelIndexOptions = {},
  ): Promise<ModelIndex> {
    const bm25 = new Bm25Index(options);
    const entries: IndexedModel[] = [];
    const seen = new Set<string>();
    let position = 0;
    const tick = cooperativeTicker(options.signal);
    for await (const raw of cards) {
      position++;
      await tick();
      const parsed = ModelCardRecordSchema.safeParse(raw);
      if (!parsed.success) throw ValidationError.fromZod(`model card #${position}`, parsed.error);
      const record = parsed.data;
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      bm25.add(String(entries.length), cardSearchText(record.id, record.card));
      entries.push(toIndexedModel(record));
      if (entries.length % 500 === 0) options.onProgress?.(entries.length);
    }
    bm25.consolidate();
    options.onProgress?.(entries.length);
    return new ModelIndex(entries, bm25, { createdAt: new Date().toISOString(), ...(options.source ? { source: options.source } : {}) });
  }

  /** Indexes a JSON Lines snapshot of `{id, card, sizeBytes, downloads}` rows. */
  static async fromJsonl(path: string, options: BuildModelIndexOptions = {}): Promise<ModelIndex> {
    return ModelIndex.fromCards(readJsonl<ModelCardRecord>(path), { source: path, ...options });
  }

  /** Loads an index written by `save` (the file format lives in model-index-file.ts). */
  static async load(path: string): Promise<ModelIndex> {
    return ModelIndex.fromJSON(await readModelIndexFile(path), path);
  }

  /** A saved index (`.json`) or a JSON Lines snapshot (`.jsonl`, indexed on the fly). */
  static async open(path: string, options: BuildModelIndexOptions = {}): Promise<ModelIndex> {
    if (/\.(jsonl|ndjson)$/i.test(path)) return ModelIndex.fromJsonl(path, options);
    const index = await ModelIndex.load(path);
    throwIfAborted(options.signal);
    return index;
  }

  static fromJSON(value: unknown, subject = 'model index'): ModelIndex {
    const { entries, bm25, createdAt, source } = parseModelIndex(value, subject);
    return new ModelIndex(entries, bm25, { createdAt, ...(source ? { source } : {}) });
  }

  toJSON(): PersistedModelIndex {
    return serializeModelIndex({ entries: this.entries, bm25: this.bm25, createdAt: this.createdAt, ...(this.source ? { source: this.source } : {}) });
  }

  /** Writes the index as one JSON file (atomically: readers never see half a file). */
  async save(path: string): Promise<void> {
    await writeModelIndexFile(path, this.toJSON());
  }

  /** Ranked candidates for a query (an instruction, or a HyDE model card). */
  search(query: string, options: ModelSearchOptions = {}): RankedModel[] {
    return this.searchDetailed(query, options).candidates;
  }

  /** `search`, plus how many models matched and how many each filter removed. */
  searchDetailed(query: string, options: ModelSearchOptions = {}): ModelSearchResult {
    const topK = options.topK ?? 5;
    const maxSize = options.maxSizeBytes === undefined ? DEFAULT_MAX_SIZE_BYTES : options.maxSizeBytes;
    const architectures = options.architectures?.length ? new Set(options.architectures) : undefined;
    const licenses = options.licenses?.length ? new Set(options.licenses.map((license) => license.toLowerCase())) : undefined;
    const scorer = options.scorer ?? defaultModelScorer;
    const needsSize = maxSize != null || options.gpuMemoryBytes !== undefined;
    const excluded = { size: 0, unknownSize: 0, architecture: 0, license: 0, gpuMemory: 0 };
    const { documents, scores } = this.bm25.scoreAll(query);
    const kept = new TopK<{ position: number; relevance: number; score: number }>(
      topK,
      (a, b) => b.score - a.score || b.relevance - a.relevance || a.position - b.position,
    );
    for (let i = 0; i < documents.length; i++) {
      // Documents were added in entry order, so a document's position is its entry's index.
      const position = documents[i]!;
      const model = this.entries[position]!;
      const knownSize = model.sizeBytes !== undefined || model.parameters !== undefined;
      if (needsSize && !knownSize && !options.allowUnknownSize) {
        excluded.unknownSize++;
        continue;
      }
      if (maxSize != null && model.sizeBytes !== undefined && model.sizeBytes > maxSize) {
        excluded.size++;
        continue;
      }
      if (architectures && !architectures.has(model.architecture)) {
        excluded.architecture++;
        continue;
      }
      if (licenses && !(model.license && licenses.has(model.license))) {
        excluded.license++;
        continue;
      }
      if (options.gpuMemoryBytes !== undefined && knownSize) {
        const estimate = this.estimateMemory(model, options)!;
        const needed = options.trainingMethod === 'full' ? estimate.fullBytes : estimate.loraBytes;
        if (needed > options.gpuMemoryBytes) {
          excluded.gpuMemory++;
          continue;
        }
      }
      const relevance = scores[i]!;
      kept.push({ position, relevance, score: scorer({ relevance, model }) });
    }
    const candidates: RankedModel[] = kept.items().map(({ position, relevance, score }) => {
      const model = this.entries[position]!;
      const estimatedMemory = this.estimateMemory(model, options);
      return {
        id: model.id,
        score,
        relevance,
        architecture: model.architecture,
        ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
        ...(model.downloads !== undefined ? { downloads: model.downloads } : {}),
        ...(model.license !== undefined ? { license: model.license } : {}),
        ...(estimatedMemory ? { estimatedMemory } : {}),
      };
    });
    return { candidates, matched: documents.length, excluded };
  }

  private estimateMemory(model: IndexedModel, options: ModelSearchOptions): ModelCandidate['estimatedMemory'] {
    if (model.sizeBytes === undefined && model.parameters === undefined) return undefined;
    const estimate = estimateFineTuneMemory({
      ...(model.parameters !== undefined ? { parameters: model.parameters } : {}),
      ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
      ...(options.sequenceLength ? { sequenceLength: options.sequenceLength } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.precision ? { precision: options.precision } : {}),
    });
    return { loraBytes: estimate.loraBytes, fullBytes: estimate.fullBytes };
  }
}

function toIndexedModel(record: z.output<typeof ModelCardRecordSchema>): IndexedModel {
  const license = record.license?.toLowerCase() ?? detectLicense(record.card);
  const architecture =
    record.architecture ??
    detectArchitecture({
      id: record.id,
      card: record.card,
      ...(record.config ? { config: record.config as ModelConfigHints } : {}),
      ...(record.pipelineTag ? { pipelineTag: record.pipelineTag } : {}),
      ...(record.tags ? { tags: record.tags } : {}),
    });
  return {
    id: record.id,
    architecture,
    ...(record.sizeBytes != null ? { sizeBytes: record.sizeBytes } : {}),
    ...(record.downloads != null ? { downloads: record.downloads } : {}),
    ...(record.parameters != null ? { parameters: record.parameters } : {}),
    ...(license ? { license } : {}),
  };
}

/** The best `k` items seen, by `compare` (negative: first argument ranks higher). O(n·k), fine for small k. */
class TopK<T> {
  private readonly best: T[] = [];

  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  push(item: T): void {
    const best = this.best;
    if (best.length === this.k && (this.k === 0 || this.compare(item, best[best.length - 1]!) >= 0)) return;
    let at = best.length;
    while (at > 0 && this.compare(item, best[at - 1]!) < 0) at--;
    best.splice(at, 0, item);
    if (best.length > this.k) best.pop();
  }

  items(): T[] {
    return this.best;
  }
}

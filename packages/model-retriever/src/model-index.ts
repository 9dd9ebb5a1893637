import {
  ModelArchitectureSchema,
  cooperativeTicker,
  lazySchema,
  throwIfAborted,
  ValidationError,
  readJsonl,
  type ModelArchitecture,
  type ModelCandidate,
  type Precision,
  type TrainingMethod,
} from '@prompt2model/core/internal';
import type { z } from 'zod';
import { Bm25Index, TopK, type Bm25Options } from '@prompt2model/bm25';
import { parseModelIndex, readModelIndexFile, serializeModelIndex, writeModelIndexFile, type ModelIndexParts, type PersistedModelIndex } from './model-index-file.js';
import { estimateFineTuneMemory } from './memory.js';
import type { ModelConfigHints } from './model-card.js';
import { CardPreparer } from './card-preparer.js';
import type { CardToPrepare, PreparedCard } from './card-prep.js';
import { defaultModelScorer, POPULARITY_TIE_BREAK, popularityTieBreakScorer, relevanceScorer, type ModelScorer } from './scoring.js';

/** One model card to index: the `{id, card, sizeBytes, downloads}` rows of a JSON Lines snapshot, plus optional hints. */
export const ModelCardRecordSchema = lazySchema((z) =>
  z
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
    .loose(),
);
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
  /**
   * Prepare cards (cleaning, architecture and license detection) on a worker thread while this
   * thread tokenises. The index is the same; it pays only where another core is free.
   */
  workers?: boolean;
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

interface SizeFilter {
  dropUnknownSize: boolean;
  limit: number;
  verdicts: Uint8Array;
  maxPopularity: number;
}

/**
 * Model cards indexed for retrieval: BM25 over the cleaned card text plus the metadata the filters
 * need (size, downloads, architecture, license). Build it from cards or a JSON Lines snapshot,
 * `save` it as JSON, and `load` it back in well under a second.
 */
export class ModelIndex {
  readonly createdAt: string;
  readonly source: string | undefined;
  /** Id → position, made on the first `get` (a search needs positions only). */
  private byId: Map<string, number> | undefined;
  /** What every search reads per matching model, as typed arrays (no object access in the hot loop). */
  private readonly columns: { sizeBytes: Float64Array; hasParameters: Uint8Array; popularity: Float64Array };
  private lastSizeFilter: SizeFilter | undefined;
  /** `estimateMemory`'s answers (NaN: not asked yet) for one set of estimator options. */
  private estimates:
    | { sequenceLength: number | undefined; batchSize: number | undefined; precision: ModelSearchOptions['precision'] | undefined; loraBytes: Float64Array; fullBytes: Float64Array }
    | undefined;
  /** The last size filter's verdicts (one per model). */
  private readonly verdicts: Uint8Array;

  private constructor(
    private readonly entries: IndexedModel[],
    private readonly bm25: Bm25Index,
    meta: { createdAt: string; source?: string },
  ) {
    this.createdAt = meta.createdAt;
    this.source = meta.source;
    const count = entries.length;
    // Popularity and the size filter's verdicts live in the BM25 index's own columns, which its
    // ranking reads in place (no copy per search).
    const { prior, skip } = bm25.documentColumns();
    this.columns = { sizeBytes: new Float64Array(count), hasParameters: new Uint8Array(count), popularity: prior };
    this.verdicts = skip;
    for (let i = 0; i < count; i++) {
      const entry = entries[i]!;
      this.columns.sizeBytes[i] = entry.sizeBytes ?? Number.NaN;
      this.columns.hasParameters[i] = entry.parameters === undefined ? 0 : 1;
      this.columns.popularity[i] = POPULARITY_TIE_BREAK * Math.log10((entry.downloads ?? 0) + 1);
    }
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
    if (!this.byId) {
      this.byId = new Map();
      for (let i = 0; i < this.entries.length; i++) this.byId.set(this.entries[i]!.id, i);
    }
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
    // Cards are prepared (cleaned, architecture and license detected) a chunk at a time, on a
    // worker thread when asked, while this thread tokenises the chunks already prepared; they
    // are added in card order, so the index is the same either way.
    const preparer = new CardPreparer(options.workers ?? false);
    const inFlight: Array<{ records: ValidCardRecord[]; prepared: Promise<PreparedCard[]> }> = [];
    const addPrepared = async (keep: number): Promise<void> => {
      while (inFlight.length > keep) {
        const { records, prepared } = inFlight.shift()!;
        const cleaned = await prepared;
        for (let i = 0; i < records.length; i++) {
          bm25.add(String(entries.length), cleaned[i]!.text);
          entries.push(toIndexedModel(records[i]!, cleaned[i]!));
          if (entries.length % 500 === 0) options.onProgress?.(entries.length);
        }
      }
    };
    const send = (records: ValidCardRecord[]) => {
      const prepared = preparer.prepare(records.map(toPrepare));
      // Awaited in order below; a build stopped earlier (abort, invalid card) leaves the rest unawaited.
      prepared.catch(() => undefined);
      inFlight.push({ records, prepared });
    };
    let chunk: ValidCardRecord[] = [];
    try {
      for await (const raw of cards) {
        position++;
        await tick();
        const parsed = ModelCardRecordSchema.safeParse(raw);
        if (!parsed.success) throw ValidationError.fromZod(`model card #${position}`, parsed.error);
        const record = parsed.data;
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        chunk.push(record);
        if (chunk.length === cardsPerChunk) {
          send(chunk);
          chunk = [];
          await addPrepared(preparer.useWorker ? chunksInFlight : 0);
        }
      }
      if (chunk.length > 0) send(chunk);
      await addPrepared(0);
    } finally {
      await preparer.close();
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
    const { entries, bm25, createdAt, source } = await readModelIndexFile(path);
    return new ModelIndex(entries, bm25, { createdAt, ...(source ? { source } : {}) });
  }

  /** A saved index (any name but `.jsonl`) or a JSON Lines snapshot (`.jsonl`, indexed on the fly). */
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
    return serializeModelIndex(this.parts());
  }

  /** Writes the index as one binary file (atomically: readers never see half a file); `load` reads it back. */
  async save(path: string): Promise<void> {
    await writeModelIndexFile(path, this.parts());
  }

  private parts(): ModelIndexParts {
    return { entries: this.entries, bm25: this.bm25, createdAt: this.createdAt, ...(this.source ? { source: this.source } : {}) };
  }

  /** Ranked candidates for a query (an instruction, or a HyDE model card). */
  search(query: string, options: ModelSearchOptions = {}): RankedModel[] {
    const scorer = options.scorer ?? defaultModelScorer;
    const perModelFilters = Boolean(options.architectures?.length || options.licenses?.length) || options.gpuMemoryBytes !== undefined;
    if (perModelFilters || (scorer !== popularityTieBreakScorer && scorer !== relevanceScorer)) return this.searchDetailed(query, options).candidates;
    // No counts to report: rank only the matches that can reach the top k (MaxScore), with the
    // size filter as a per-model verdict and popularity as a per-model prior. Same scores, same order.
    const topK = options.topK ?? 5;
    const maxSize = options.maxSizeBytes === undefined ? DEFAULT_MAX_SIZE_BYTES : options.maxSizeBytes;
    const filter = this.sizeFilter(maxSize != null && !options.allowUnknownSize, maxSize ?? Number.POSITIVE_INFINITY);
    const matches = this.bm25.topMatches(
      query,
      Math.min(topK, this.entries.length),
      scorer === popularityTieBreakScorer ? { prior: this.columns.popularity, maxPrior: filter.maxPopularity, skip: filter.verdicts } : { skip: filter.verdicts },
    );
    const candidates = new Array<RankedModel>(matches.length);
    for (let i = 0; i < matches.length; i++) candidates[i] = this.candidate(matches[i]!.document, matches[i]!.relevance, matches[i]!.score, options);
    return candidates;
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
    // At most every model (a `topK` of Infinity asks for all of them).
    const kept = new TopK(Math.min(topK, this.entries.length));
    // The default scorer's popularity term is precomputed per model (the same doubles it computes).
    const popularity = scorer === popularityTieBreakScorer ? this.columns.popularity : undefined;
    const sizeFilter = this.sizeFilter(needsSize && !options.allowUnknownSize, maxSize ?? Number.POSITIVE_INFINITY).verdicts;
    const perModelFilters = architectures !== undefined || licenses !== undefined || options.gpuMemoryBytes !== undefined;
    const hasParameters = this.columns.hasParameters;
    const sizes = this.columns.sizeBytes;
    const matched = this.bm25.withScores(query, (documents, count, scores) => {
      let unknownSize = 0;
      let tooLarge = 0;
      for (let i = 0; i < count; i++) {
        // Documents were added in entry order, so a document's position is its entry's index.
        const position = documents[i]!;
        const verdict = sizeFilter[position]!;
        if (verdict !== 0) {
          if (verdict === 1) unknownSize++;
          else tooLarge++;
          continue;
        }
        if (perModelFilters) {
          const model = this.entries[position]!;
          if (architectures && !architectures.has(model.architecture)) {
            excluded.architecture++;
            continue;
          }
          if (licenses && !(model.license && licenses.has(model.license))) {
            excluded.license++;
            continue;
          }
          if (options.gpuMemoryBytes !== undefined && (sizes[position] === sizes[position] || hasParameters[position] === 1)) {
            const estimate = this.estimateMemory(position, options)!;
            const needed = options.trainingMethod === 'full' ? estimate.fullBytes : estimate.loraBytes;
            if (needed > options.gpuMemoryBytes) {
              excluded.gpuMemory++;
              continue;
            }
          }
        }
        const relevance = scores[position]!;
        const score = popularity ? relevance + popularity[position]! : scorer({ relevance, model: this.entries[position]! });
        // Most matches cannot enter a full top-k: one comparison, no call.
        if (score < kept.worstScore) continue;
        kept.offer(position, relevance, score);
      }
      excluded.unknownSize = unknownSize;
      excluded.size = tooLarge;
      return count;
    });
    const candidates: RankedModel[] = kept.items().map(({ document, relevance, score }) => this.candidate(document, relevance, score, options));
    return { candidates, matched, excluded };
  }

  private candidate(position: number, relevance: number, score: number, options: ModelSearchOptions): RankedModel {
    const model = this.entries[position]!;
    const estimatedMemory = this.estimateMemory(position, options);
    // Optional fields assigned rather than spread: this runs for every result of every search.
    const candidate: RankedModel = { id: model.id, score, relevance, architecture: model.architecture };
    if (model.sizeBytes !== undefined) candidate.sizeBytes = model.sizeBytes;
    if (model.downloads !== undefined) candidate.downloads = model.downloads;
    if (model.license !== undefined) candidate.license = model.license;
    if (estimatedMemory) candidate.estimatedMemory = estimatedMemory;
    return candidate;
  }

  /**
   * Per model: 0 when it passes the size filters, 1 when its size is unknown and that drops it, 2
   * when it is over the limit; and the largest popularity among the models that pass. The same
   * few option sets come back search after search (the defaults above all), so the last one is kept
   * (its verdicts in the one column the BM25 ranking reads).
   */
  private sizeFilter(dropUnknownSize: boolean, limit: number): SizeFilter {
    const cached = this.lastSizeFilter;
    if (cached && cached.dropUnknownSize === dropUnknownSize && Object.is(cached.limit, limit)) return cached;
    const { sizeBytes, hasParameters, popularity } = this.columns;
    const verdicts = this.verdicts;
    let maxPopularity = 0;
    for (let i = 0; i < verdicts.length; i++) {
      const size = sizeBytes[i]!;
      const known = !Number.isNaN(size) || hasParameters[i] === 1;
      verdicts[i] = !known && dropUnknownSize ? 1 : size > limit ? 2 : 0;
      if (verdicts[i] === 0 && popularity[i]! > maxPopularity) maxPopularity = popularity[i]!;
    }
    this.lastSizeFilter = { dropUnknownSize, limit, verdicts, maxPopularity };
    return this.lastSizeFilter;
  }

  /**
   * A model's fine-tuning memory under the options' sequence length, batch size and precision
   * (unset and 0 mean the estimator's defaults); undefined when its size is unknown. Remembered per
   * model for the last such option set, as the size filter is: the GPU filter asks for every
   * matching model of a search, and searches ask for the same few models again.
   */
  private estimateMemory(position: number, options: ModelSearchOptions): ModelCandidate['estimatedMemory'] {
    const model = this.entries[position]!;
    if (model.sizeBytes === undefined && model.parameters === undefined) return undefined;
    const sequenceLength = options.sequenceLength || undefined;
    const batchSize = options.batchSize || undefined;
    const precision = options.precision || undefined;
    let memo = this.estimates;
    if (!memo || memo.sequenceLength !== sequenceLength || memo.batchSize !== batchSize || memo.precision !== precision) {
      const count = this.entries.length;
      memo = this.estimates = { sequenceLength, batchSize, precision, loraBytes: new Float64Array(count).fill(Number.NaN), fullBytes: new Float64Array(count) };
    }
    if (Number.isNaN(memo.loraBytes[position]!)) {
      const estimate = estimateFineTuneMemory({ parameters: model.parameters, sizeBytes: model.sizeBytes, sequenceLength, batchSize, precision });
      memo.loraBytes[position] = estimate.loraBytes;
      memo.fullBytes[position] = estimate.fullBytes;
    }
    return { loraBytes: memo.loraBytes[position]!, fullBytes: memo.fullBytes[position]! };
  }
}

type ValidCardRecord = z.output<typeof ModelCardRecordSchema>;

/** Cards per message to the preparing worker, and messages ahead of the tokeniser. */
const cardsPerChunk = 256;
const chunksInFlight = 4;

function toPrepare(record: ValidCardRecord): CardToPrepare {
  // Only the fields preparation reads: the rest of a loose record need not be cloneable.
  const config = record.config
    ? { architectures: record.config.architectures, model_type: record.config.model_type, is_encoder_decoder: record.config.is_encoder_decoder }
    : record.config;
  return { id: record.id, card: record.card, license: record.license, architecture: record.architecture, config, pipelineTag: record.pipelineTag, tags: record.tags };
}

function toIndexedModel(record: ValidCardRecord, prepared: PreparedCard): IndexedModel {
  return {
    id: record.id,
    architecture: prepared.architecture,
    ...(record.sizeBytes != null ? { sizeBytes: record.sizeBytes } : {}),
    ...(record.downloads != null ? { downloads: record.downloads } : {}),
    ...(record.parameters != null ? { parameters: record.parameters } : {}),
    ...(prepared.license ? { license: prepared.license } : {}),
  };
}

import {
  Prompt2ModelError,
  type ModelCandidate,
  type ModelRetriever,
  type ModelRetrieverOptions,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core/internal';
import { buildIndexFromHub, type HubSnapshotOptions } from './hub.js';
import { hydeQuery, plainQuery, withDirectionTokens, type HydeOptions } from './hyde.js';
import { DEFAULT_MAX_SIZE_BYTES, ModelIndex, type ModelSearchOptions, type ModelSearchResult } from './model-index.js';
import { formatBytes } from './memory.js';

export interface ModelRetrieverConfig extends ModelSearchOptions {
  /**
   * Where candidates come from: a built `ModelIndex`, a file (a saved index `.json` or a JSON Lines
   * snapshot `.jsonl`), or a loader. Default: the live Hugging Face Hub through `hub` (cached on disk).
   */
  index?: ModelIndex | string | (() => Promise<ModelIndex>);
  /** Hub options when no `index` is given. */
  hub?: HubSnapshotOptions;
  /**
   * HyDE: the teacher writes a hypothetical model card that becomes the query. `auto` (default)
   * uses it when the context has a teacher; `true` requires one; `false` queries with the instruction.
   */
  hyde?: boolean | 'auto';
  hydeOptions?: Omit<HydeOptions, 'signal'>;
}

type MatchCounts = Pick<ModelSearchResult, 'matched' | 'excluded'>;

/** A retrieval; `matched` and `excluded` are counted (a full pass over the matches) when first read. */
export interface ModelRetrieval extends ModelSearchResult {
  /** The text that was searched (the HyDE card, or the instruction). */
  query: string;
  hyde: boolean;
}

const stage = 'retrieve-models';

/** Runs one retrieval and keeps the details (query, filter counts) that `retrieve` leaves out. */
export interface DefaultModelRetriever extends ModelRetriever {
  retrieveDetailed(spec: PromptSpec, options: ModelRetrieverOptions, context: StageContext): Promise<ModelRetrieval>;
  /** The index, loaded (once) on first use. */
  loadIndex(context?: StageContext): Promise<ModelIndex>;
}

/**
 * The default ModelRetriever: HyDE (optional) + BM25 over model cards, ranked by the scorer
 * (default BM25 × log10(downloads + 2)), with size, architecture, license and GPU-memory filters
 * that remove models instead of ranking them last.
 */
export function createModelRetriever(config: ModelRetrieverConfig = {}): DefaultModelRetriever {
  let loading: Promise<ModelIndex> | undefined;
  const loadIndex = (context?: StageContext): Promise<ModelIndex> => {
    loading ??= (async () => {
      const source = config.index;
      if (source instanceof ModelIndex) return source;
      if (typeof source === 'function') return source();
      if (typeof source === 'string') return ModelIndex.open(source, context ? { signal: context.signal } : {});
      return buildIndexFromHub({
        ...config.hub,
        ...(context ? { events: context.events, signal: context.signal } : {}),
      });
    })();
    // A failed load (network down) may succeed on the next call.
    loading.catch(() => (loading = undefined));
    return loading;
  };

  const retrieveDetailed = async (spec: PromptSpec, options: ModelRetrieverOptions, context: StageContext): Promise<ModelRetrieval> => {
    const useHyde = config.hyde === true || ((config.hyde ?? 'auto') === 'auto' && context.teacher !== undefined);
    if (useHyde && !context.teacher) {
      throw new Prompt2ModelError({
        message: 'HyDE needs a teacher model to write the hypothetical model card, and none is configured.',
        hint: 'Pass a `teacher` (and OPENAI_API_KEY / `baseURL`), or search without `hyde`.',
      });
    }
    const steps = useHyde ? 3 : 2;
    context.events.emit({ type: 'progress', stage, done: 0, total: steps });
    const index = await loadIndex(context);
    context.events.emit({ type: 'progress', stage, done: 1, total: steps });
    let query = plainQuery(spec);
    let hyde = false;
    if (useHyde) {
      const card = await hydeQuery(spec, context.teacher!, { ...config.hydeOptions, signal: context.signal }).catch((error: unknown) => {
        if (Prompt2ModelError.isInstance(error) && /empty model card/.test(error.message)) return '';
        throw error;
      });
      const problem = offFormatCard(card);
      if (problem) context.events.log('info', `HyDE: the teacher's model card ${problem}; searching with the instruction instead.`, stage);
      else {
        query = withDirectionTokens(card, spec.instruction);
        hyde = true;
      }
      context.events.emit({ type: 'progress', stage, done: 2, total: steps });
    }
    const searchOptions = { ...config, topK: options.topK ?? config.topK ?? 5 };
    // The ranking goes through `search` (top-k only: the matches that cannot reach it are never
    // ranked). How many models matched and how many each filter removed take a full pass over
    // the matches: counted only when nothing passed (the error and the HyDE fallback need them)
    // or when a caller reads them (`models search` prints them).
    const countMatches = (text: string): MatchCounts => {
      const { matched, excluded } = index.searchDetailed(text, { ...searchOptions, topK: 1 });
      return { matched, excluded };
    };
    let candidates = index.search(query, searchOptions);
    let counts = candidates.length === 0 ? countMatches(query) : undefined;
    if (hyde && counts?.matched === 0) {
      // A card that matches nothing is worse than the plain instruction, which may.
      context.events.log('info', "HyDE: the teacher's model card matched no model card; searching with the instruction instead.", stage);
      query = plainQuery(spec);
      hyde = false;
      candidates = index.search(query, searchOptions);
      counts = candidates.length === 0 ? countMatches(query) : undefined;
    }
    context.events.emit({ type: 'progress', stage, done: steps, total: steps, ...(counts ? { counters: { matched: counts.matched, ...counts.excluded } } : {}) });
    if (counts && candidates.length === 0) {
      throw new Prompt2ModelError({
        message: `No base model passed the filters: ${describeExclusions(counts, { maxSizeBytes: config.maxSizeBytes === undefined ? DEFAULT_MAX_SIZE_BYTES : config.maxSizeBytes })} (of ${index.size} indexed).`,
        hint: 'Raise `maxSizeBytes` or `gpuMemoryBytes`, widen the license allow-list, or use a larger index.',
      });
    }
    const searched = query;
    return {
      candidates,
      query,
      hyde,
      get matched() {
        counts ??= countMatches(searched);
        return counts.matched;
      },
      get excluded() {
        counts ??= countMatches(searched);
        return counts.excluded;
      },
    };
  };

  return {
    specificationVersion: 'v1',
    name: 'hyde-bm25',
    loadIndex,
    retrieveDetailed,
    async retrieve(spec, options, context): Promise<ModelCandidate[]> {
      return (await retrieveDetailed(spec, options, context)).candidates;
    },
  };
}

/** Why a HyDE answer is not a usable model card (empty, a refusal, code or JSON), or undefined. */
export function offFormatCard(card: string): string | undefined {
  const text = card.trim();
  if (text.length < 20) return text === '' ? 'was empty' : 'was too short to search with';
  if (/^(i'm sorry|i am sorry|sorry|i cannot|i can't|as an ai)/i.test(text)) return 'was a refusal';
  if (/^[[{]/.test(text)) return 'was JSON, not Markdown';
  return undefined;
}

/** "412 matched; 40 too large, 3 of unknown size" — for logs and errors. */
export function describeExclusions(result: MatchCounts, options: { maxSizeBytes?: number | null } = {}): string {
  const { excluded } = result;
  const parts = [
    excluded.size ? `${excluded.size} larger than ${options.maxSizeBytes ? formatBytes(options.maxSizeBytes) : 'the size limit'}` : '',
    excluded.unknownSize ? `${excluded.unknownSize} of unknown size` : '',
    excluded.architecture ? `${excluded.architecture} of another architecture` : '',
    excluded.license ? `${excluded.license} with a license outside the allow-list` : '',
    excluded.gpuMemory ? `${excluded.gpuMemory} over the GPU memory budget` : '',
  ].filter(Boolean);
  return `${result.matched} matched${parts.length ? `; removed ${parts.join(', ')}` : ''}`;
}

import { DatasetSkippedError } from './dataset-skipped-error.js';
import {
  APICallError,
  Prompt2ModelError,
  RUN_FILES,
  type DatasetRetriever,
  type DatasetRetrieverOptions,
  type Example,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core/internal';
import { DatasetNotFoundError, GatedDatasetError, ParquetFileCache, getDatasetRevision, resolveHubDatasetOptions, type HubDatasetRequestOptions } from '@prompt2model/huggingface/hub';
import { closeDatasetIds } from './close-ids.js';
import {
  heuristicMapping,
  mappingReader,
  mappingFromEvaluationMetadata,
  teacherColumnMapping,
  validateMapping,
  type ColumnMapping,
  type ColumnMappingProposal,
} from './column-mapping.js';
import { getDatasetDetails, type DatasetDetails } from './dataset-details.js';
import { DatasetIndex, type DatasetSearchOptions, type DatasetSearchResult, type RankedDataset } from './dataset-index.js';
import { parsePath, type ColumnPath } from './features.js';
import { buildDatasetIndexFromHub, type HubDatasetIndexOptions } from './hub-index.js';
import { datasetHydeQuery } from './hyde.js';
import { rerankDatasets, type RerankResult } from './rerank.js';
import { DEFAULT_MAX_ROWS, loadDatasetRows, streamDatasetRows, type RowStreamSummary } from './row-loader.js';
import { transformExamples } from './transform.js';

export interface DatasetRetrieverConfig extends DatasetSearchOptions {
  /** Candidates: a built `DatasetIndex`, a JSON Lines snapshot path, or a loader. Default: the Hub listing (cached). */
  index?: DatasetIndex | string | (() => Promise<DatasetIndex>);
  /** Where an index built from a JSON Lines snapshot is cached. Default `$P2M_CACHE_DIR/dataset-index`; `false` disables it. */
  indexCacheDir?: string | false;
  /** How to reach the Hub and the dataset viewer (URLs, token, scheduler); `listing` options for the default index. */
  hub?: HubDatasetRequestOptions & { cacheDir?: string | false; listing?: Omit<HubDatasetIndexOptions, keyof HubDatasetRequestOptions> };
  /** Query with a teacher-written hypothetical dataset description. `auto` (default): when the context has a teacher. */
  hyde?: boolean | 'auto';
  /** LLM rerank of the top candidates. `auto` (default): when the context has a teacher. */
  rerank?: boolean | 'auto';
  /** Rerank votes (each with the candidates shuffled). Default 3. */
  rerankVotes?: number;
  /** Candidates the rerank sees. Default 12. */
  rerankCandidates?: number;
  /** Use this dataset instead of searching. (`includeGated` keeps gated candidates only when a Hub token is set.) */
  dataset?: string;
  config?: string;
  split?: string;
  /** Column overrides (`--input`, `--output`); both given: the teacher is not asked. */
  mapping?: Partial<ColumnMapping>;
  /**
   * Shown the proposed mapping and a sample; returns the mapping to use, or `null` to skip the
   * dataset. The CLI asks on a TTY; without it the proposal is used as it is.
   */
  confirmMapping?: (proposal: ColumnMappingProposal, details: DatasetDetails, sample: Example[]) => Promise<ColumnMapping | null>;
  /** Most rows downloaded. Default 3000. */
  maxRows?: number;
  /** Rewrite rows into the task's format with the teacher (plan-then-transform), at most this many. Default off. */
  transform?: false | { maxExamples?: number };
}

export interface DatasetSearchOutcome extends DatasetSearchResult {
  query: string;
  hyde: boolean;
  rerank?: RerankResult;
}

export interface RetrievedDataset {
  dataset: string;
  config: string;
  split: string;
  revision: string | undefined;
  mapping: ColumnMappingProposal;
  examples: Example[];
  /** Rows downloaded, and rows dropped for an empty input or output. */
  rows: number;
  dropped: number;
  totalRows: number;
  via: RowStreamSummary['via'];
  transformed?: { kept: number; dropped: number };
}

export interface DefaultDatasetRetriever extends DatasetRetriever {
  loadIndex(context?: StageContext): Promise<DatasetIndex>;
  /** Ranked candidates (and the rerank's choice when it ran). */
  search(spec: PromptSpec, context: StageContext, options?: { topK?: number }): Promise<DatasetSearchOutcome>;
  /** Configs, splits, sizes and columns of one dataset (before any download). */
  describe(dataset: string, context?: StageContext): Promise<DatasetDetails>;
  /** Loads one dataset's rows as examples: column mapping, download (cached), conversion, optional transform. */
  load(spec: PromptSpec, dataset: string, context: StageContext, options?: DatasetLoadOptions): Promise<RetrievedDataset>;
}

export interface DatasetLoadOptions {
  /** Most rows; a smaller number than the split holds is a seeded sample across the split. */
  maxRows?: number;
  /** Seed of that sample. Default 0. */
  seed?: number | string;
  /**
   * Receives the examples a batch at a time as they download; they are then not kept
   * (`RetrievedDataset.examples` is empty), so a load of any size runs in bounded memory.
   */
  write?: (examples: Example[]) => Promise<void>;
}

const stage = 'retrieve-datasets';

/**
 * The default DatasetRetriever: BM25 (optionally HyDE) over Hugging Face dataset descriptions,
 * an optional LLM rerank with several shuffled votes, then the teacher's column mapping and rows
 * through the dataset viewer API. Each row becomes `{input, output, meta: {source: 'retrieved',
 * dataset, config, split, row}}`.
 */
export function createDatasetRetriever(config: DatasetRetrieverConfig = {}): DefaultDatasetRetriever {
  let loading: Promise<DatasetIndex> | undefined;
  const hubOptions = (context?: StageContext): HubDatasetRequestOptions & { cacheDir?: string | false } => ({
    ...config.hub,
    ...(context ? { signal: context.signal } : {}),
  });

  const loadIndex = (context?: StageContext): Promise<DatasetIndex> => {
    loading ??= (async () => {
      const source = config.index;
      if (source instanceof DatasetIndex) return source;
      if (typeof source === 'function') return source();
      if (typeof source === 'string') return DatasetIndex.fromJsonl(source, config.indexCacheDir !== undefined ? { cacheDir: config.indexCacheDir } : {});
      const { listing, ...hub } = config.hub ?? {};
      return buildDatasetIndexFromHub({ ...hub, ...listing, ...(context ? { events: context.events, signal: context.signal } : {}) });
    })();
    loading.catch(() => (loading = undefined));
    return loading;
  };

  /** The card's evaluation metadata: from the index when one is configured (or already loaded), else the Hub's dataset info. */
  const evaluationMetadataOf = async (dataset: string, context?: StageContext): Promise<unknown> => {
    if (config.index !== undefined || loading) return (await loadIndex(context).catch(() => undefined))?.get(dataset)?.evaluationMetadata;
    const { accessToken, ...hub } = hubOptions(context);
    const info = await getDatasetRevision(dataset, { ...hub, accessToken: accessToken ?? '' }).catch(() => undefined);
    return info?.evaluationMetadata;
  };

  /**
   * The viewer refused a dataset (the real one answers "not accessible without authentication" for
   * ids that do not exist): when the Hub does not know the id either, say "not found" and suggest
   * close ids from the index; else the original error stands.
   */
  const explainMissing = async (dataset: string, error: unknown, context?: StageContext): Promise<never> => {
    if (GatedDatasetError.isInstance(error) || (APICallError.isInstance(error) && error.statusCode === 404)) {
      const { accessToken, ...hub } = hubOptions(context);
      const missing = await getDatasetRevision(dataset, { ...hub, accessToken: accessToken ?? '' }).then(
        () => undefined,
        (lookup: unknown) => (DatasetNotFoundError.isInstance(lookup) ? lookup : undefined),
      );
      if (missing) {
        const index = await loadIndex(context).catch(() => undefined);
        const suggestions = index ? closeDatasetIds(dataset, index.datasets().map((entry) => entry.id)) : [];
        throw new DatasetNotFoundError({ dataset, suggestions, hadToken: Boolean(resolveHubDatasetOptions(config.hub).accessToken), cause: error });
      }
    }
    throw error;
  };

  const detailsOf = (dataset: string, evaluationMetadata: unknown, context?: StageContext): Promise<DatasetDetails> =>
    getDatasetDetails(dataset, { ...(config.config ? { config: config.config } : {}), ...(config.split ? { split: config.split } : {}), evaluationMetadata }, hubOptions(context)).catch((error: unknown) =>
      explainMissing(dataset, error, context),
    );

  const useTeacher = (setting: boolean | 'auto' | undefined, context: StageContext, what: string): boolean => {
    const wanted = setting === true || ((setting ?? 'auto') === 'auto' && context.teacher !== undefined);
    if (wanted && !context.teacher) {
      throw new Prompt2ModelError({ message: `${what} needs a teacher model, and none is configured.`, hint: 'Pass a `teacher` (and OPENAI_API_KEY / `baseURL`), or leave the option out.' });
    }
    return wanted;
  };

  const search = async (spec: PromptSpec, context: StageContext, options: { topK?: number } = {}): Promise<DatasetSearchOutcome> => {
    const hyde = useTeacher(config.hyde, context, 'HyDE');
    const rerank = useTeacher(config.rerank, context, 'Reranking');
    const index = await loadIndex(context);
    const query = hyde ? await datasetHydeQuery(spec, context.teacher!, { signal: context.signal }) : spec.instruction;
    const topK = Math.max(options.topK ?? config.topK ?? 5, rerank ? config.rerankCandidates ?? 12 : 0);
    // Gated datasets are candidates only with a token to load them (the terms still need accepting).
    const token = resolveHubDatasetOptions(config.hub).accessToken;
    if (config.includeGated && !token) context.events.log('warn', 'Gated datasets are left out: set HF_TOKEN (or `accessToken`) to include them.', stage);
    const result = index.searchDetailed(query, { ...config, includeGated: Boolean(config.includeGated && token), topK });
    const outcome: DatasetSearchOutcome = { ...result, query, hyde };
    if (rerank && result.candidates.length > 0) {
      outcome.rerank = await rerankDatasets(spec, result.candidates, context.teacher!, {
        ...(config.rerankVotes ? { votes: config.rerankVotes } : {}),
        ...(config.rerankCandidates ? { maxCandidates: config.rerankCandidates } : {}),
        signal: context.signal,
      });
    }
    outcome.candidates = outcome.candidates.slice(0, options.topK ?? config.topK ?? 5);
    return outcome;
  };

  const describe = async (dataset: string, context?: StageContext): Promise<DatasetDetails> => {
    return detailsOf(dataset, await evaluationMetadataOf(dataset, context), context);
  };

  const load = async (spec: PromptSpec, dataset: string, context: StageContext, options: DatasetLoadOptions = {}): Promise<RetrievedDataset> => {
    const evaluationMetadata = await evaluationMetadataOf(dataset, context);
    const details = await detailsOf(dataset, evaluationMetadata, context);
    if (details.paths.length < 2) {
      throw new Prompt2ModelError({ message: `The dataset ${dataset} has fewer than two text columns (${details.paths.map((p) => p.path).join(', ') || 'none'}).`, hint: 'Pick another dataset, or `exclude` this one.' });
    }
    const maxRows = options.maxRows ?? config.maxRows ?? DEFAULT_MAX_ROWS;
    // The size before any download: the split's rows and parquet bytes, and how much of it is read.
    const size = details.configs.find((c) => c.config === details.config)?.splits.find((s) => s.split === details.split);
    if (size?.rows !== undefined) {
      context.events.log('info', `${dataset} ${details.config}/${details.split}: ${size.rows.toLocaleString('en-US')} rows${size.bytes !== undefined ? `, ${(size.bytes / 1e6).toFixed(1)} MB parquet` : ''}; reading ${maxRows < size.rows ? `a sample of ${maxRows.toLocaleString('en-US')} rows across the split` : `all ${size.rows.toLocaleString('en-US')} rows`}.`, stage);
    }
    // The sample and the load read the same files: what the sample downloads is not downloaded again.
    const files = new ParquetFileCache();
    const origin = { dataset, config: details.config, split: details.split };
    // A small first read gives the teacher a sample row and the user a preview. With the mapping
    // given and nobody to confirm it, only its columns are read (the first row group is decoded
    // here and again by the load, so every other column would be decoded for nothing).
    const flags = config.mapping?.input?.length && config.mapping.output && !config.confirmMapping ? { input: config.mapping.input, output: config.mapping.output } : undefined;
    const given = flags && [...flags.input, flags.output].every((path) => details.paths.some((known) => known.path === path)) ? columnsOf(flags) : undefined;
    const sample = await loadDatasetRows({ ...origin, maxRows: Math.min(5, maxRows), order: 'head', ...(given ? { columns: given } : {}) }, { ...hubOptions(context), files });
    const firstRow = sample.rows[0];
    if (!firstRow) throw new Prompt2ModelError({ message: `The split ${details.split} of ${dataset} (${details.config}) has no rows.`, hint: 'Pass another `split`, or pick another dataset.' });
    let proposal = await proposeMapping(spec, dataset, details, firstRow, evaluationMetadata, context);
    const preview = toExamples(sample.rows, proposal, details.paths, origin, sample.indices);
    if (config.confirmMapping) {
      const confirmed = await config.confirmMapping(proposal, details, preview);
      if (confirmed === null) throw new DatasetSkippedError({ dataset });
      if (confirmed.output !== proposal.output || confirmed.input.join() !== proposal.input.join()) {
        validateMapping(confirmed, details.paths);
        proposal = { ...confirmed, source: 'flags' };
      }
    }
    context.events.log('info', `Retrieving ${dataset} (${details.config}/${details.split}): input ${proposal.input.join(' + ')} → output ${proposal.output} (${proposal.source}).`, stage);
    const columns = columnsOf(proposal);
    // From here on, what is read is handed on and dropped: memory stays bounded by a row group.
    files.keep = false;
    // Streamed to the caller's writer unless a transform needs all examples at hand.
    const sink = config.transform && context.teacher ? undefined : options.write;
    const kept: Example[] = [];
    const convert = exampleConverter(proposal, details.paths, origin);
    let usable = 0;
    const loaded = await streamDatasetRows(
      { ...origin, columns, maxRows, ...(options.seed !== undefined ? { seed: options.seed } : {}) },
      { ...hubOptions(context), files, events: context.events },
      async (batch) => {
        const examples = convert(batch.rows, batch.indices);
        usable += examples.length;
        if (sink) await sink(examples);
        else for (const example of examples) kept.push(example);
      },
    );
    files.release();
    const dropped = loaded.rows - usable;
    if (usable === 0) {
      throw new Prompt2ModelError({
        message: `No usable rows in ${dataset} (${details.config}/${details.split}): all ${loaded.rows} rows have an empty ${proposal.input.join(' + ')} or ${proposal.output}.`,
        hint: 'Map other columns with `mapping`, pick another `split`, or `exclude` the dataset.',
      });
    }
    const result: RetrievedDataset = { ...origin, revision: loaded.revision, mapping: proposal, examples: kept, rows: loaded.rows, dropped, totalRows: loaded.totalRows, via: loaded.via };
    if (config.transform && context.teacher) {
      const transformed = await transformExamples(spec, dataset, kept, context.teacher, { ...config.transform, signal: context.signal });
      result.examples = transformed.examples;
      result.transformed = { kept: transformed.examples.length, dropped: transformed.dropped };
      if (options.write) {
        await options.write(result.examples);
        result.examples = [];
      }
    }
    return result;
  };

  const proposeMapping = async (
    spec: PromptSpec,
    dataset: string,
    details: DatasetDetails,
    sampleRow: Record<string, unknown>,
    evaluationMetadata: unknown,
    context: StageContext,
  ): Promise<ColumnMappingProposal> => {
    const flags = config.mapping;
    if (flags?.input?.length && flags.output) {
      const mapping = { input: flags.input, output: flags.output };
      validateMapping(mapping, details.paths, 'column mapping (`mapping`)');
      return { ...mapping, source: 'flags' };
    }
    const seed = mappingFromEvaluationMetadata(evaluationMetadata, details.paths, details.config);
    let proposal: ColumnMappingProposal | undefined;
    if (context.teacher) {
      proposal = await teacherColumnMapping({ spec, dataset, paths: details.paths, sampleRow, ...(seed ? { seed } : {}) }, context.teacher, { signal: context.signal });
    } else if (seed) {
      proposal = { ...seed, source: 'col_mapping' };
    } else {
      const guess = heuristicMapping(details.paths, spec);
      if (guess) proposal = { ...guess, source: 'heuristic' };
    }
    if (!proposal) {
      throw new Prompt2ModelError({
        message: `Cannot tell which columns of ${dataset} are the input and the output (columns: ${details.paths.map((p) => p.path).join(', ')}).`,
        hint: 'Pass a `mapping` (input and output columns), or configure a teacher to choose them.',
      });
    }
    // One flag given: it overrides that side of the proposal.
    if (flags?.input?.length) proposal = { ...proposal, input: flags.input, source: 'flags' };
    if (flags?.output) proposal = { ...proposal, output: flags.output, input: proposal.input.filter((path) => path !== flags.output), source: 'flags' };
    validateMapping(proposal, details.paths);
    return proposal;
  };

  return {
    specificationVersion: 'v1',
    name: 'bm25-hf-datasets',
    loadIndex,
    search,
    describe,
    load,
    async retrieve(spec: PromptSpec, options: DatasetRetrieverOptions, context: StageContext): Promise<Example[]> {
      try {
        return await retrieveExamples(spec, options, context);
      } catch (error) {
        // Retrieved data adds to generated data; a Hub that cannot be reached should not stop the run.
        // A refused connection or an unknown host (no status) counts too: the Hub is out of reach.
        if (APICallError.isInstance(error) && (error.isRetryable || error.statusCode === undefined) && !context.signal.aborted) {
          context.events.log('warn', `Dataset retrieval skipped: ${error.message}. Training on generated data only (pass an \`index\` file to search offline).`, stage);
          return [];
        }
        throw error;
      }
    },
  };

  async function retrieveExamples(spec: PromptSpec, options: DatasetRetrieverOptions, context: StageContext): Promise<Example[]> {
    context.events.emit({ type: 'progress', stage, done: 0, total: 2 });
    let dataset = config.dataset;
    let outcome: DatasetSearchOutcome | undefined;
    if (!dataset) {
      outcome = await search(spec, context);
      dataset = outcome.rerank ? outcome.rerank.dataset ?? undefined : outcome.candidates[0]?.id;
      if (!dataset) {
        context.events.log('warn', outcome.rerank ? 'No retrieved dataset fits the task (the rerank said none fits); training on generated data only.' : 'No dataset matched the task; training on generated data only.', stage);
        await context.store.writeJson(RUN_FILES.retrievedDataset, { dataset: null, query: outcome.query, hyde: outcome.hyde, candidates: outcome.candidates.map(summary), rerank: outcome.rerank ?? null });
        return [];
      }
    }
    context.events.emit({ type: 'progress', stage, done: 1, total: 2 });
    const loaded = await load(spec, dataset, context, { maxRows: Math.min(options.maxExamples ?? Number.POSITIVE_INFINITY, config.maxRows ?? DEFAULT_MAX_ROWS) });
    const { examples, ...rest } = loaded;
    await context.store.writeJson(RUN_FILES.retrievedDataset, {
      ...rest,
      count: examples.length,
      ...(outcome ? { query: outcome.query, hyde: outcome.hyde, candidates: outcome.candidates.map(summary), rerank: outcome.rerank ?? null } : {}),
    });
    context.events.emit({ type: 'progress', stage, done: 2, total: 2, counters: { rows: loaded.rows, dropped: loaded.dropped } });
    return examples.slice(0, options.maxExamples ?? examples.length);
  }
}

function summary(candidate: RankedDataset): { id: string; score: number } {
  return { id: candidate.id, score: candidate.score };
}

/** Rows → examples: the mapped input and output as text, empty ones dropped, provenance in `meta`. */
/** The top-level columns a mapping reads. */
function columnsOf(mapping: ColumnMapping): string[] {
  return [...new Set([...mapping.input, mapping.output].map((path) => (parsePath(path)[0] as { key: string }).key))];
}

export function toExamples(
  rows: Array<Record<string, unknown>>,
  mapping: ColumnMapping,
  paths: ColumnPath[],
  origin: { dataset: string; config: string; split: string },
  /** Each row's index in the split (default its position in `rows`). */
  indices?: number[],
): Example[] {
  return exampleConverter(mapping, paths, origin)(rows, indices);
}

/** `toExamples` for one mapping and origin, with the mapping compiled once for all the batches of a load. */
export function exampleConverter(
  mapping: ColumnMapping,
  paths: ColumnPath[],
  origin: { dataset: string; config: string; split: string },
): (rows: Array<Record<string, unknown>>, indices?: number[]) => Example[] {
  const read = mappingReader(mapping, paths);
  return (rows, indices) => {
    const examples: Example[] = [];
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index]!;
      const input = read.input(row);
      if (input === '') continue;
      const output = read.output(row);
      if (output === '') continue;
      examples.push({ input, output, meta: { source: 'retrieved', dataset: origin.dataset, config: origin.config, split: origin.split, row: indices?.[index] ?? index } });
    }
    return examples;
  };
}

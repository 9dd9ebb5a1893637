import { join } from 'node:path';
import { APICallError, AtomicJsonlWriter, Prompt2ModelError, hashValue, readJsonl, seededRandom, throwIfAborted, type ProgressEmitter } from '@prompt2model/core/internal';
import {
  GatedDatasetError,
  MAX_ROWS_PER_PAGE,
  ParquetFileCache,
  decodeParquetRows,
  defaultHubCacheDir,
  getDatasetRevision,
  getDatasetRows,
  hubCacheFolder,
  listDatasetParquetFiles,
  resolveHubDatasetOptions,
  type HubDatasetRequestOptions,
  type RemoteParquetFile,
} from '@prompt2model/huggingface/hub';

export interface LoadRowsRequest {
  dataset: string;
  config: string;
  split: string;
  /** Top-level columns to read (parquet fetches only these). Default all. */
  columns?: string[];
  /** Most rows. Default 3000. */
  maxRows?: number;
  /**
   * Which rows when `maxRows` is smaller than the split: `sample` (default) draws them at random
   * across the split with `seed`, so training data is not just the first rows an author wrote;
   * `head` takes the first rows (a preview).
   */
  order?: 'sample' | 'head';
  /** Seed of the sample. Default 0. */
  seed?: number | string;
}

/** A batch of rows and their positions in the split. */
export interface RowBatch {
  rows: Array<Record<string, unknown>>;
  /** Row index in the split of each row. */
  indices: number[];
}

export interface RowStreamSummary {
  /** Rows delivered. */
  rows: number;
  /** Rows in the split (all shards). */
  totalRows: number;
  /** How they came: parquet shards over range requests, `/rows` pages, or the cache. */
  via: 'parquet' | 'rows' | 'cache';
  /** The dataset commit the rows belong to (the cache key). */
  revision: string | undefined;
}

export type LoadedRows = Omit<RowStreamSummary, 'rows'> & { rows: Array<Record<string, unknown>>; indices: number[] };

export interface RowLoaderOptions extends HubDatasetRequestOptions {
  /** Row cache folder (keyed by Hub, dataset, revision, config, split, columns, count, seed). Default the Hub cache; `false` disables it. */
  cacheDir?: string | false;
  events?: ProgressEmitter;
  /** Parquet files shared between loads of one dataset (a sample, then the load): each byte is downloaded once. */
  files?: ParquetFileCache;
}

export const DEFAULT_MAX_ROWS = 3000;
const stage = 'retrieve-datasets';
/** Rows a batch holds at most, so memory stays bounded whatever `maxRows` is. */
const BATCH_ROWS = 1000;
/** Codecs the parquet reader decodes; a file using another one is read through `/rows`. */
const READABLE_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4', 'LZ4_RAW']);

type Emit = (batch: RowBatch) => Promise<void>;

/** Rows of one split, all in memory: for previews and small loads (see `streamDatasetRows` for large ones). */
export async function loadDatasetRows(request: LoadRowsRequest, options: RowLoaderOptions = {}): Promise<LoadedRows> {
  const rows: Array<Record<string, unknown>> = [];
  const indices: number[] = [];
  const summary = await streamDatasetRows(request, options, (batch) => {
    for (let i = 0; i < batch.rows.length; i++) {
      rows.push(batch.rows[i]!);
      indices.push(batch.indices[i]!);
    }
  });
  return { ...summary, rows, indices };
}

/**
 * Streams up to `maxRows` rows of one split to `onBatch`, in split order, a bounded batch at a time:
 * from the viewer's parquet conversion with hyparquet over HTTP range requests (only the needed
 * columns and row groups, every codec), else page by page through `/rows` (also when a parquet file
 * cannot be decoded). When `maxRows` is smaller than the split, the rows are a seeded sample across
 * it. Rows are cached by the dataset's revision, so a second load of an unchanged dataset downloads
 * nothing.
 */
export async function streamDatasetRows(request: LoadRowsRequest, options: RowLoaderOptions, onBatch: (batch: RowBatch) => void | Promise<void>): Promise<RowStreamSummary> {
  const resolved = resolveHubDatasetOptions(options);
  const maxRows = request.maxRows ?? DEFAULT_MAX_ROWS;
  const order = request.order ?? 'sample';
  const seed = request.seed ?? 0;
  const info = await getDatasetRevision(request.dataset, {
    hubUrl: resolved.hubUrl,
    accessToken: resolved.accessToken ?? '',
    fetch: resolved.fetch,
    ...(resolved.scheduler ? { scheduler: resolved.scheduler } : {}),
    ...(resolved.signal ? { signal: resolved.signal } : {}),
  }).catch((error: unknown) => {
    // A Hub without the dataset's info (some mirrors) still serves rows; only the cache is lost.
    if (APICallError.isInstance(error) && error.statusCode !== 401 && error.statusCode !== 403) return { sha: undefined, gated: false as const };
    throw error;
  });
  if (info.gated && !resolved.accessToken) {
    throw new GatedDatasetError({ dataset: request.dataset, pageUrl: `${resolved.hubUrl}/datasets/${request.dataset}`, hadToken: false });
  }
  const cachePath =
    options.cacheDir === false || !info.sha
      ? undefined
      : join(
          hubCacheFolder(options.cacheDir ?? defaultHubCacheDir(), resolved.hubUrl),
          'dataset-rows',
          encodeURIComponent(request.dataset),
          info.sha,
          `${hashValue({ config: request.config, split: request.split, columns: request.columns ?? null, maxRows, order, seed }).slice(0, 24)}.jsonl`,
        );
  let delivered = 0;
  if (cachePath) {
    const cached = await readCachedRows(cachePath, onBatch, options.signal);
    if (cached) return { rows: cached.rows, totalRows: cached.totalRows, via: 'cache', revision: info.sha };
  }
  // The cache is written beside the rows as they stream, and renamed into place only when complete.
  const cache = cachePath ? await AtomicJsonlWriter.open(cachePath) : undefined;
  const emit: Emit = async (batch) => {
    delivered += batch.rows.length;
    await onBatch(batch);
    await cache?.writeAll(batch.rows.map((row, i) => [batch.indices[i], row]));
    options.events?.emit({ type: 'progress', stage, done: delivered, total: maxRows });
  };
  try {
    const outcome =
      (await streamFromParquet(request, { maxRows, order, seed }, options, emit, () => delivered)) ??
      (await streamFromRowPages(request, { maxRows, order, seed }, options, emit));
    if (cache) {
      await cache.writeAll([{ end: true, totalRows: outcome.totalRows, via: outcome.via, rows: delivered }]);
      await cache.commit();
    }
    return { rows: delivered, totalRows: outcome.totalRows, via: outcome.via, revision: info.sha };
  } catch (error) {
    await cache?.discard();
    throw error;
  }
}

/** Replays a complete cache file (its last line records the totals); undefined when there is none. */
async function readCachedRows(path: string, onBatch: (batch: RowBatch) => void | Promise<void>, signal?: AbortSignal): Promise<{ rows: number; totalRows: number } | undefined> {
  // A file without its closing line was never renamed into place, so one that exists is complete;
  // still, rows are only delivered once the end line is known to be there.
  let lines: AsyncGenerator<unknown>;
  try {
    lines = readJsonl<unknown>(path);
    let batch: RowBatch = { rows: [], indices: [] };
    let rows = 0;
    for await (const line of lines) {
      if (Array.isArray(line)) {
        batch.indices.push(line[0] as number);
        batch.rows.push(line[1] as Record<string, unknown>);
        if (batch.rows.length >= BATCH_ROWS) {
          throwIfAborted(signal);
          rows += batch.rows.length;
          await onBatch(batch);
          batch = { rows: [], indices: [] };
        }
      } else if (line && typeof line === 'object' && (line as { end?: boolean }).end) {
        rows += batch.rows.length;
        if (batch.rows.length > 0) await onBatch(batch);
        return { rows, totalRows: (line as { totalRows: number }).totalRows };
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return undefined;
}

interface Selection {
  maxRows: number;
  order: 'sample' | 'head';
  seed: number | string;
}

interface RowGroupRef {
  file: RemoteParquetFile;
  /** Rows of the group within its file, and its first row within the split. */
  fileStart: number;
  splitStart: number;
  numRows: number;
}

async function streamFromParquet(
  request: LoadRowsRequest,
  selection: Selection,
  options: RowLoaderOptions,
  emit: Emit,
  delivered: () => number,
): Promise<{ totalRows: number; via: 'parquet' } | { totalRows: number; via: 'rows' } | undefined> {
  let entries;
  try {
    entries = await listDatasetParquetFiles(request.dataset, { config: request.config, split: request.split }, options);
  } catch (error) {
    // No parquet conversion (viewer disabled for files, too large, not ready): the /rows pages may still work.
    if (APICallError.isInstance(error) && !error.isRetryable) return undefined;
    throw error;
  }
  if (entries.length === 0) return undefined;
  const resolved = resolveHubDatasetOptions(options);
  const files = options.files ?? new ParquetFileCache();
  // Every shard's footer: the split's total is the sum of its shards, and a sample spans them all.
  const opened = await Promise.all(entries.map((entry) => files.open(resolved, { dataset: request.dataset, url: entry.url, size: entry.size })));
  const groups: RowGroupRef[] = [];
  let totalRows = 0;
  for (const file of opened) {
    let fileStart = 0;
    for (const group of file.metadata.row_groups) {
      const numRows = Number(group.num_rows);
      groups.push({ file, fileStart, splitStart: totalRows, numRows });
      fileStart += numRows;
      totalRows += numRows;
    }
  }
  const unreadable = unreadableCodec(opened, request.columns);
  if (unreadable) {
    options.events?.log('warn', `${request.dataset}: the parquet files use the ${unreadable} codec, which cannot be decoded here; reading rows through the dataset viewer's /rows API instead.`, stage);
    return undefined;
  }
  const plan = planRows(groups, totalRows, selection);
  const decode = (step: PlanStep) => {
    const decoded = decodeParquetRows(step.group.file, {
      rowStart: step.group.fileStart + step.from,
      rowEnd: step.group.fileStart + step.to,
      ...(request.columns ? { columns: request.columns } : {}),
    });
    // Awaited in its turn below; handled here so an abandoned read-ahead is not an unhandled rejection.
    decoded.catch(() => undefined);
    return decoded;
  };
  let ahead = plan.length > 0 ? decode(plan[0]!) : undefined;
  for (let at = 0; at < plan.length; at++) {
    const step = plan[at]!;
    throwIfAborted(options.signal);
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await ahead!;
    } catch (error) {
      if (APICallError.isInstance(error) || GatedDatasetError.isInstance(error) || (error as Error).name === 'AbortError') throw error;
      // A file hyparquet cannot decode: the viewer's /rows serves the same rows, decoded by the viewer.
      if (delivered() === 0) {
        options.events?.log('warn', `${request.dataset}: a parquet file could not be decoded (${(error as Error).message}); reading rows through the dataset viewer's /rows API instead.`, stage);
        return undefined;
      }
      throw new Prompt2ModelError({
        message: `A parquet file of ${request.dataset} (${request.config}/${request.split}) could not be decoded after ${delivered()} rows: ${(error as Error).message}`,
        hint: 'Load fewer rows (`maxRows`), or another split; please report the dataset.',
        cause: error,
      });
    }
    // The next row group downloads and decodes while this one is handed on (the consumer writing
    // it out), so the network, the decoder and the consumer overlap; memory holds two row groups.
    ahead = at + 1 < plan.length ? decode(plan[at + 1]!) : undefined;
    // Batches of at most BATCH_ROWS rows: a large row group is handed on in slices.
    const picks = step.picks;
    for (let begin = 0; begin < (picks ? picks.length : rows.length); begin += BATCH_ROWS) {
      const batch: RowBatch = { rows: [], indices: [] };
      const end = Math.min(begin + BATCH_ROWS, picks ? picks.length : rows.length);
      for (let k = begin; k < end; k++) {
        const local = picks ? picks[k]! - step.from : k;
        batch.rows.push(rows[local]!);
        batch.indices.push(step.group.splitStart + step.from + local);
      }
      await emit(batch);
    }
  }
  return { totalRows, via: 'parquet' };
}

function unreadableCodec(files: RemoteParquetFile[], columns: string[] | undefined): string | undefined {
  for (const file of files) {
    for (const group of file.metadata.row_groups) {
      for (const chunk of group.columns) {
        const meta = chunk.meta_data;
        if (!meta) continue;
        if (columns && !columns.includes(meta.path_in_schema[0]!)) continue;
        if (!READABLE_CODECS.has(meta.codec)) return meta.codec;
      }
    }
  }
  return undefined;
}

/** Rows `[from, to)` of one row group to decode, and which of them to keep (all when `picks` is absent). */
interface PlanStep {
  group: RowGroupRef;
  from: number;
  to: number;
  picks?: number[];
}

/**
 * Which rows to read: every row (in order) when the split fits, the first rows for `head`, else a
 * seeded uniform sample. The sample first draws row groups at random until they hold four times the
 * rows wanted (so a huge split is not downloaded whole for a few thousand rows), then draws the rows
 * uniformly from those groups; groups are read in split order.
 */
export function planRows(groups: RowGroupRef[], totalRows: number, selection: Selection): PlanStep[] {
  const { maxRows } = selection;
  if (maxRows >= totalRows || selection.order === 'head') {
    const steps: PlanStep[] = [];
    let left = Math.min(maxRows, totalRows);
    for (const group of groups) {
      if (left <= 0) break;
      const take = Math.min(left, group.numRows);
      if (take > 0) steps.push({ group, from: 0, to: take });
      left -= take;
    }
    return steps;
  }
  const random = seededRandom(selection.seed);
  const shuffled = groups.filter((group) => group.numRows > 0);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const chosen: RowGroupRef[] = [];
  let pool = 0;
  for (const group of shuffled) {
    if (pool >= maxRows * 4) break;
    chosen.push(group);
    pool += group.numRows;
  }
  chosen.sort((a, b) => a.splitStart - b.splitStart);
  // Floyd's algorithm: maxRows distinct positions in [0, pool) without materialising the pool.
  const positions = new Set<number>();
  for (let j = pool - maxRows; j < pool; j++) {
    const t = Math.floor(random() * (j + 1));
    positions.add(positions.has(t) ? j : t);
  }
  const sorted = [...positions].sort((a, b) => a - b);
  const steps: PlanStep[] = [];
  let offset = 0;
  let cursor = 0;
  for (const group of chosen) {
    const picks: number[] = [];
    while (cursor < sorted.length && sorted[cursor]! < offset + group.numRows) picks.push(sorted[cursor++]! - offset);
    if (picks.length > 0) steps.push({ group, from: picks[0]!, to: picks[picks.length - 1]! + 1, picks });
    offset += group.numRows;
  }
  return steps;
}

async function streamFromRowPages(request: LoadRowsRequest, selection: Selection, options: RowLoaderOptions, emit: Emit): Promise<{ totalRows: number; via: 'rows' }> {
  const page = (offset: number, length = MAX_ROWS_PER_PAGE) => getDatasetRows({ dataset: request.dataset, config: request.config, split: request.split, offset, length }, options);
  const first = await page(0);
  const totalRows = first.num_rows_total;
  const wanted = Math.min(selection.maxRows, totalRows);
  const pageCount = Math.ceil(totalRows / MAX_ROWS_PER_PAGE);
  // The pages to read: all from the start, or (sampling) pages drawn at random across the split.
  let offsets: number[];
  if (selection.order === 'head' || wanted >= totalRows) {
    offsets = [];
    for (let offset = 0; offset < wanted; offset += MAX_ROWS_PER_PAGE) offsets.push(offset);
  } else {
    const random = seededRandom(selection.seed);
    const indexes = Array.from({ length: pageCount }, (_, i) => i);
    const count = Math.min(pageCount, Math.ceil(wanted / MAX_ROWS_PER_PAGE) + 1);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(random() * (pageCount - i));
      [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
    }
    offsets = indexes.slice(0, count).sort((a, b) => a - b).map((index) => index * MAX_ROWS_PER_PAGE);
  }
  const pick = (row: Record<string, unknown>) => (request.columns ? Object.fromEntries(request.columns.map((column) => [column, row[column]])) : row);
  let left = wanted;
  // Pages run a window at a time (the scheduler caps requests in flight and retries failures) and
  // are handed on in order, so memory holds one window whatever the size of the load.
  const window = 16;
  for (let start = 0; start < offsets.length && left > 0; start += window) {
    throwIfAborted(options.signal);
    const pages = await Promise.all(offsets.slice(start, start + window).map((offset) => (offset === 0 ? first : page(offset, Math.min(MAX_ROWS_PER_PAGE, totalRows - offset)))));
    const batch: RowBatch = { rows: [], indices: [] };
    for (const result of pages) {
      for (const entry of result.rows) {
        if (left <= 0) break;
        batch.rows.push(pick(entry.row));
        batch.indices.push(entry.row_idx);
        left--;
      }
    }
    await emit(batch);
  }
  return { totalRows, via: 'rows' };
}

import { join } from 'node:path';
import { APICallError, hashValue, throwIfAborted, type ProgressEmitter } from '@prompt2model/core/internal';
import {
  GatedDatasetError,
  MAX_ROWS_PER_PAGE,
  defaultHubCacheDir,
  getDatasetRevision,
  getDatasetRows,
  hubCacheFolder,
  listDatasetParquetFiles,
  readCachedJson,
  readParquetRows,
  resolveHubDatasetOptions,
  writeCachedJson,
  type HubDatasetRequestOptions,
} from '@prompt2model/huggingface/hub';

export interface LoadRowsRequest {
  dataset: string;
  config: string;
  split: string;
  /** Top-level columns to read (parquet fetches only these). Default all. */
  columns?: string[];
  /** Most rows. Default 3000. */
  maxRows?: number;
}

export interface LoadedRows {
  rows: Array<Record<string, unknown>>;
  /** Rows in the split. */
  totalRows: number;
  /** How they came: parquet shards over range requests, `/rows` pages, or the cache. */
  via: 'parquet' | 'rows' | 'cache';
  /** The dataset commit the rows belong to (the cache key). */
  revision: string | undefined;
}

export interface RowLoaderOptions extends HubDatasetRequestOptions {
  /** Row cache folder (keyed by Hub, dataset, revision, config, split, columns, count). Default the Hub cache; `false` disables it. */
  cacheDir?: string | false;
  events?: ProgressEmitter;
}

export const DEFAULT_MAX_ROWS = 3000;
const stage = 'retrieve-datasets';

/**
 * Downloads up to `maxRows` rows of one split: from the viewer's parquet conversion with hyparquet
 * over HTTP range requests (only the needed columns), else page by page through `/rows`. Rows are
 * cached by the dataset's revision, so a second load of an unchanged dataset downloads nothing.
 */
export async function loadDatasetRows(request: LoadRowsRequest, options: RowLoaderOptions = {}): Promise<LoadedRows> {
  const resolved = resolveHubDatasetOptions(options);
  const maxRows = request.maxRows ?? DEFAULT_MAX_ROWS;
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
          `${hashValue({ config: request.config, split: request.split, columns: request.columns ?? null, maxRows }).slice(0, 24)}.json`,
        );
  if (cachePath) {
    const cached = await readCachedJson<{ rows: Array<Record<string, unknown>>; totalRows: number }>(cachePath);
    if (cached && Array.isArray(cached.rows)) return { rows: cached.rows, totalRows: cached.totalRows, via: 'cache', revision: info.sha };
  }
  const loaded = (await loadFromParquet(request, maxRows, options)) ?? (await loadFromRowPages(request, maxRows, options));
  if (cachePath) await writeCachedJson(cachePath, { rows: loaded.rows, totalRows: loaded.totalRows });
  return { ...loaded, revision: info.sha };
}

async function loadFromParquet(request: LoadRowsRequest, maxRows: number, options: RowLoaderOptions): Promise<Omit<LoadedRows, 'revision'> | undefined> {
  let files;
  try {
    files = await listDatasetParquetFiles(request.dataset, { config: request.config, split: request.split }, options);
  } catch (error) {
    // No parquet conversion (viewer disabled for files, too large, not ready): the /rows pages may still work.
    if (APICallError.isInstance(error) && !error.isRetryable) return undefined;
    throw error;
  }
  if (files.length === 0) return undefined;
  const rows: Array<Record<string, unknown>> = [];
  let totalRows = 0;
  for (const file of files) {
    throwIfAborted(options.signal);
    const wanted = maxRows - rows.length;
    const result = await readParquetRows(
      { dataset: request.dataset, url: file.url, size: file.size, ...(request.columns ? { columns: request.columns } : {}), rowStart: 0, rowEnd: Math.max(wanted, 0) },
      options,
    );
    totalRows += result.numRows;
    rows.push(...result.rows.slice(0, wanted));
    options.events?.emit({ type: 'progress', stage, done: rows.length, total: maxRows, counters: { shards: files.indexOf(file) + 1 } });
    if (rows.length >= maxRows) break;
  }
  return { rows, totalRows, via: 'parquet' };
}

async function loadFromRowPages(request: LoadRowsRequest, maxRows: number, options: RowLoaderOptions): Promise<Omit<LoadedRows, 'revision'>> {
  const first = await getDatasetRows({ dataset: request.dataset, config: request.config, split: request.split, offset: 0, length: MAX_ROWS_PER_PAGE }, options);
  const wanted = Math.min(maxRows, first.num_rows_total);
  const offsets: number[] = [];
  for (let offset = MAX_ROWS_PER_PAGE; offset < wanted; offset += MAX_ROWS_PER_PAGE) offsets.push(offset);
  let done = first.rows.length;
  // Pages run concurrently; the scheduler caps requests in flight and retries failures.
  const pages = await Promise.all(
    offsets.map(async (offset) => {
      const page = await getDatasetRows({ dataset: request.dataset, config: request.config, split: request.split, offset, length: Math.min(MAX_ROWS_PER_PAGE, wanted - offset) }, options);
      done += page.rows.length;
      options.events?.emit({ type: 'progress', stage, done, total: wanted });
      return page;
    }),
  );
  const pick = (row: Record<string, unknown>) => (request.columns ? Object.fromEntries(request.columns.map((column) => [column, row[column]])) : row);
  const rows = [first, ...pages].flatMap((page) => page.rows.map((entry) => pick(entry.row))).slice(0, wanted);
  return { rows, totalRows: first.num_rows_total, via: 'rows' };
}

import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { hubListingPage, hubResponder, listenOnLoopback, sendFileBytes } from './loopback-http.js';

/** A `datasets` feature type, as `/info` reports it (`{_type: 'Value', dtype: 'string'}`, `ClassLabel`, `Translation`, `Sequence`, or a dict). */
export type DatasetFeatureFixture = { _type?: string; [key: string]: unknown } | DatasetFeatureFixture[];

export interface DatasetConfigFixture {
  name: string;
  features: Record<string, DatasetFeatureFixture>;
  /** Rows of each split, e.g. `{ train: [...], validation: [...] }`. */
  splits: Record<string, Array<Record<string, unknown>>>;
  /** Whether the viewer has a parquet conversion (else only `/rows` works). Default true. */
  parquet?: boolean;
  /**
   * Parquet shards of a split as another writer made them (pyarrow with a codec, polars, ...),
   * served as they are instead of the ones this server writes; `/rows` still serves `splits`.
   */
  parquetFiles?: Record<string, Uint8Array[]>;
}

/** One dataset the loopback Hub serves; the rows of `hub/datasets.jsonl` fit as they are (listing only). */
export interface DatasetFixture {
  id: string;
  description?: string;
  downloads?: number;
  likes?: number;
  /** Gated datasets need a token listed in `grantedTokens` for the viewer and the files. */
  gated?: false | 'auto' | 'manual';
  tags?: string[];
  /** Served as the card's `train-eval-index`. */
  evaluationMetadata?: unknown;
  lastModified?: string;
  /** Configs with features and rows; a dataset without any has no viewer (listing only). */
  configs?: DatasetConfigFixture[];
}

/** A scripted answer by request index: an HTTP status, the viewer's `ResponseNotReady` (500), or the normal answer. */
export type DatasetServerFault = 429 | 500 | 503 | 'not-ready' | 'ok';

export interface DatasetsServerOptions {
  datasets: DatasetFixture[];
  /** Tokens that have accepted the terms of every gated dataset. */
  grantedTokens?: string[];
  /** Page size of `/api/datasets` (the real Hub pages at 1000). Default 100. */
  pageSize?: number;
  /** Rows per parquet shard (several files per split when smaller than the split). Default 1000. */
  rowsPerShard?: number;
  /** Rows per parquet row group (small groups let a reader skip what it does not need). Default 100. */
  rowGroupSize?: number;
  /** Faults by request index (every HTTP request counts). */
  faultSequence?: DatasetServerFault[];
  retryAfterSeconds?: number;
  /** Each parquet file response waits this long first (a slow link). Default 0. */
  parquetDelayMs?: number;
}

export interface DatasetsServerStats {
  requests: number;
  listRequests: number;
  viewerRequests: Record<string, number>;
  parquetRequests: number;
  /** Range requests answered with 206. */
  rangeRequests: number;
  parquetBytesServed: number;
  faults: number;
  byStatus: Record<number, number>;
}

export interface DatasetsServer {
  /** Base URL for both the Hub (`hubUrl`) and the dataset viewer API (`datasetViewerUrl`). */
  url: string;
  stats: DatasetsServerStats;
  /** Request paths with query strings, in order. */
  requests: string[];
  reset(): void;
  close(): Promise<void>;
}

/**
 * A loopback (127.0.0.1) Hugging Face Hub for datasets plus the dataset viewer API, speaking the
 * real endpoints and shapes: `GET /api/datasets` (search, filter, sort, limit, expand, `Link`
 * pagination) and `/api/datasets/{id}` as @huggingface/hub calls them; the viewer's `/is-valid`,
 * `/splits`, `/info`, `/size`, `/parquet` and `/rows`; and parquet shards under
 * `/datasets/{id}/resolve/refs%2Fconvert%2Fparquet/...` with HEAD and Range support. Gated datasets
 * answer 401 `ExternalUnauthenticatedError` without a token and 404 `ExternalAuthenticatedError`
 * with one that was not granted, as the real viewer does.
 */
export async function startDatasetsServer(options: DatasetsServerOptions): Promise<DatasetsServer> {
  const stats = emptyStats();
  const requests: string[] = [];
  const byId = new Map(options.datasets.map((dataset) => [dataset.id, dataset]));
  const pageSize = options.pageSize ?? 100;
  const rowsPerShard = options.rowsPerShard ?? 1000;
  const parquetCache = new Map<string, Buffer>();
  let requestIndex = 0;
  let baseUrl = '';

  const { sendJson, sendFault } = hubResponder(stats.byStatus);
  const viewerError = (response: ServerResponse, status: number, code: string, error: string) => sendJson(response, status, { error }, { 'x-error-code': code });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const index = requestIndex++;
    stats.requests++;
    requests.push(request.url ?? '');
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const fault = options.faultSequence?.[index];
    if (fault !== undefined && fault !== 'ok') {
      stats.faults++;
      if (fault === 'not-ready') {
        viewerError(response, 500, 'ResponseNotReady', 'The server is busier than usual and the response is not ready yet. Please retry later.');
      } else {
        sendFault(response, fault, options.retryAfterSeconds);
      }
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: 'Method not allowed' });
    const path = url.pathname;
    if (path === '/api/datasets') {
      stats.listRequests++;
      return listDatasets(url, response);
    }
    const info = /^\/api\/datasets\/(.+?)(?:\/revision\/([^/]+))?$/.exec(decodeURIComponent(path));
    if (info) {
      const dataset = byId.get(info[1]!);
      // The Hub answers 401 for an unknown repo without a token (it may be private), 404 with one.
      if (!dataset) return sendJson(response, request.headers.authorization ? 404 : 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      return sendJson(response, 200, wireDataset(dataset, expandOf(url) ?? new Set(['private', 'downloads', 'gated', 'likes', 'lastModified', 'cardData', 'description', 'tags', 'sha'])));
    }
    const file = /^\/datasets\/(.+)\/resolve\/([^/]+)\/([^/]+)\/([^/]+)\/(\d+)\.parquet$/.exec(path);
    if (file) {
      stats.parquetRequests++;
      const id = decodeURIComponent(file[1]!);
      const dataset = byId.get(id);
      if (!dataset || decodeURIComponent(file[2]!) !== 'refs/convert/parquet') return sendJson(response, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      const denied = accessDenied(dataset, request);
      if (denied) return sendJson(response, denied === 401 ? 401 : 403, { error: 'Access to this dataset is restricted. You must have access to it and be authenticated to access it.' }, { 'x-error-code': 'GatedRepo' });
      const content = shard(dataset, decodeURIComponent(file[3]!), decodeURIComponent(file[4]!), Number(file[5]));
      if (!content) return sendJson(response, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
      if (options.parquetDelayMs) await new Promise((resolve) => setTimeout(resolve, options.parquetDelayMs));
      return serveFile(request, response, content);
    }
    const endpoint = /^\/(is-valid|splits|info|size|parquet|rows)$/.exec(path)?.[1];
    if (endpoint) {
      stats.viewerRequests[endpoint] = (stats.viewerRequests[endpoint] ?? 0) + 1;
      return viewer(endpoint, url, request, response);
    }
    sendJson(response, 404, { error: 'Not found' });
  }

  function accessDenied(dataset: DatasetFixture, request: IncomingMessage): 401 | 404 | undefined {
    if (!dataset.gated) return undefined;
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return 401;
    return options.grantedTokens?.includes(token) ? undefined : 404;
  }

  function viewer(endpoint: string, url: URL, request: IncomingMessage, response: ServerResponse): void {
    const id = url.searchParams.get('dataset') ?? '';
    if (!id) return viewerError(response, 422, 'MissingRequiredParameter', "Parameter 'dataset' is required");
    const dataset = byId.get(id);
    // As the real viewer: an unknown id reads like a gated one ("does not exist, or is not accessible").
    if (!dataset) {
      return request.headers.authorization
        ? viewerError(response, 404, 'ExternalAuthenticatedError', 'The dataset does not exist, or is not accessible with the current credentials (private or gated). Please check the spelling of the dataset name or retry with other authentication credentials.')
        : viewerError(response, 401, 'ExternalUnauthenticatedError', 'The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication.');
    }
    const denied = accessDenied(dataset, request);
    if (denied === 401) return viewerError(response, 401, 'ExternalUnauthenticatedError', 'The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication.');
    if (denied === 404) return viewerError(response, 404, 'ExternalAuthenticatedError', 'The dataset does not exist, or is not accessible with the current credentials (private or gated). Please check the spelling of the dataset name or retry with other authentication credentials.');
    const configs = dataset.configs ?? [];
    if (configs.length === 0) return viewerError(response, 501, 'DatasetViewerDisabledError', 'The dataset viewer has been disabled on this dataset.');
    const configName = url.searchParams.get('config') ?? undefined;
    const splitName = url.searchParams.get('split') ?? undefined;
    const config = configName === undefined ? undefined : configs.find((c) => c.name === configName);
    if (configName !== undefined && !config) return viewerError(response, 404, 'ConfigNotFoundError', `The config '${configName}' does not exist for the dataset.`);
    if (splitName !== undefined && config && !config.splits[splitName]) return viewerError(response, 404, 'SplitNotFoundError', `The split '${splitName}' does not exist for the config '${configName}' of the dataset.`);
    const rowsOf = (c: DatasetConfigFixture, split: string) => c.splits[split] ?? [];
    switch (endpoint) {
      case 'is-valid':
        return sendJson(response, 200, { preview: true, viewer: configs.some((c) => c.parquet !== false), search: true, filter: true, statistics: true });
      case 'splits':
        return sendJson(response, 200, {
          splits: configs.flatMap((c) => Object.keys(c.splits).map((split) => ({ dataset: id, config: c.name, split }))),
          pending: [],
          failed: [],
        });
      case 'info': {
        const describe = (c: DatasetConfigFixture) => ({
          description: dataset.description ?? '',
          citation: '',
          homepage: '',
          license: '',
          features: c.features,
          builder_name: 'parquet',
          dataset_name: id.split('/').pop(),
          config_name: c.name,
          version: { version_str: '0.0.0', major: 0, minor: 0, patch: 0 },
          splits: Object.fromEntries(Object.keys(c.splits).map((split) => [split, { name: split, num_bytes: bytesOf(rowsOf(c, split)), num_examples: rowsOf(c, split).length, dataset_name: id.split('/').pop() }])),
          download_size: configBytes(c),
          dataset_size: configBytes(c),
        });
        const info = config ? describe(config) : Object.fromEntries(configs.map((c) => [c.name, describe(c)]));
        return sendJson(response, 200, { dataset_info: info, pending: [], failed: [], partial: false });
      }
      case 'size': {
        const pick = config ? [config] : configs;
        const splitSizes = pick.flatMap((c) =>
          Object.keys(c.splits).map((split) => ({
            dataset: id,
            config: c.name,
            split,
            num_bytes_parquet_files: c.parquet === false ? 0 : shardsOf(dataset, c.name, split).reduce((sum, buffer) => sum + buffer.length, 0),
            num_bytes_memory: bytesOf(rowsOf(c, split)),
            num_rows: rowsOf(c, split).length,
            num_columns: Object.keys(c.features).length,
          })),
        );
        const sum = (rows: typeof splitSizes, key: 'num_bytes_parquet_files' | 'num_bytes_memory' | 'num_rows') => rows.reduce((total, row) => total + row[key], 0);
        const configSizes = pick.map((c) => {
          const rows = splitSizes.filter((row) => row.config === c.name);
          return { dataset: id, config: c.name, num_bytes_original_files: configBytes(c), num_bytes_parquet_files: sum(rows, 'num_bytes_parquet_files'), num_bytes_memory: sum(rows, 'num_bytes_memory'), num_rows: sum(rows, 'num_rows'), num_columns: Object.keys(c.features).length };
        });
        return sendJson(response, 200, {
          size: {
            ...(config
              ? { config: configSizes[0] }
              : { dataset: { dataset: id, num_bytes_original_files: configSizes.reduce((t, c) => t + c.num_bytes_original_files, 0), num_bytes_parquet_files: sum(splitSizes, 'num_bytes_parquet_files'), num_bytes_memory: sum(splitSizes, 'num_bytes_memory'), num_rows: sum(splitSizes, 'num_rows') } }),
            configs: configSizes,
            splits: splitSizes,
          },
          pending: [],
          failed: [],
          partial: false,
        });
      }
      case 'parquet': {
        const pick = (config ? [config] : configs).filter((c) => c.parquet !== false);
        if (pick.length === 0) return viewerError(response, 501, 'ParquetResponseEmptyError', 'No parquet files.');
        const files = pick.flatMap((c) =>
          Object.keys(c.splits)
            .filter((split) => splitName === undefined || split === splitName)
            .flatMap((split) =>
              shardsOf(dataset, c.name, split).map((buffer, shardIndex) => {
                const filename = `${String(shardIndex).padStart(4, '0')}.parquet`;
                return {
                  dataset: id,
                  config: c.name,
                  split,
                  url: `${baseUrl}/datasets/${id}/resolve/${encodeURIComponent('refs/convert/parquet')}/${encodeURIComponent(c.name)}/${encodeURIComponent(split)}/${filename}`,
                  filename,
                  size: buffer.length,
                };
              }),
            ),
        );
        return sendJson(response, 200, { parquet_files: files, pending: [], failed: [], partial: false });
      }
      case 'rows': {
        if (!config || splitName === undefined) return viewerError(response, 422, 'MissingRequiredParameter', "Parameters 'config' and 'split' are required");
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const length = Number(url.searchParams.get('length') ?? 100);
        if (!Number.isInteger(offset) || offset < 0) return viewerError(response, 422, 'InvalidParameter', "Parameter 'offset' must be positive");
        if (!Number.isInteger(length) || length < 0 || length > 100) return viewerError(response, 422, 'InvalidParameter', "Parameter 'length' must be between 0 and 100");
        const all = rowsOf(config, splitName);
        return sendJson(response, 200, {
          features: Object.entries(config.features).map(([name, type], featureIdx) => ({ feature_idx: featureIdx, name, type })),
          rows: all.slice(offset, offset + length).map((row, i) => ({ row_idx: offset + i, row, truncated_cells: [] })),
          num_rows_total: all.length,
          num_rows_per_page: 100,
          partial: false,
        });
      }
    }
  }

  function shardsOf(dataset: DatasetFixture, configName: string, split: string): Buffer[] {
    const shards: Buffer[] = [];
    for (let i = 0; ; i++) {
      const buffer = shard(dataset, configName, split, i);
      if (!buffer) return shards;
      shards.push(buffer);
    }
  }

  function shard(dataset: DatasetFixture, configName: string, split: string, shardIndex: number): Buffer | undefined {
    const config = dataset.configs?.find((c) => c.name === configName);
    const rows = config?.splits[split];
    if (!config || !rows || config.parquet === false) return undefined;
    const given = config.parquetFiles?.[split];
    if (given) return given[shardIndex] ? Buffer.from(given[shardIndex]) : undefined;
    const start = shardIndex * rowsPerShard;
    if (start >= rows.length && !(start === 0 && rows.length === 0)) return undefined;
    const key = `${dataset.id}\u0000${configName}\u0000${split}\u0000${shardIndex}`;
    let buffer = parquetCache.get(key);
    if (!buffer) {
      const slice = rows.slice(start, start + rowsPerShard);
      const columnData = Object.entries(config.features).map(([name, feature]) => ({
        name,
        data: slice.map((row) => (row[name] === undefined ? null : row[name])),
        ...(parquetType(feature) ? { type: parquetType(feature)! } : {}),
      }));
      buffer = Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize: options.rowGroupSize ?? 100 }));
      parquetCache.set(key, buffer);
    }
    return buffer;
  }

  function serveFile(request: IncomingMessage, response: ServerResponse, content: Buffer): void {
    const { status, bytes } = sendFileBytes(request, response, content, 'application/octet-stream');
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 206) stats.rangeRequests++;
    stats.parquetBytesServed += bytes;
  }

  function listDatasets(url: URL, response: ServerResponse): void {
    const params = url.searchParams;
    let rows = [...options.datasets];
    const author = params.get('author');
    if (author) rows = rows.filter((dataset) => dataset.id.startsWith(`${author}/`));
    const search = params.get('search')?.toLowerCase();
    if (search) rows = rows.filter((dataset) => dataset.id.toLowerCase().includes(search));
    for (const tag of params.getAll('filter')) rows = rows.filter((dataset) => (dataset.tags ?? []).includes(tag));
    const sort = params.get('sort');
    if (sort === 'downloads' || sort === 'likes') rows.sort((a, b) => (b[sort] ?? 0) - (a[sort] ?? 0) || a.id.localeCompare(b.id));
    else if (sort === 'id') rows.sort((a, b) => a.id.localeCompare(b.id));
    const { page, headers } = hubListingPage(rows, url, baseUrl, pageSize);
    const expand = expandOf(url);
    sendJson(response, 200, page.map((dataset) => wireDataset(dataset, expand)), headers);
  }

  function wireDataset(dataset: DatasetFixture, expand: Set<string> | undefined): Record<string, unknown> {
    const lastModified = dataset.lastModified ?? '2023-06-01T00:00:00.000Z';
    const full: Record<string, unknown> = {
      author: dataset.id.includes('/') ? dataset.id.split('/')[0] : undefined,
      private: false,
      gated: dataset.gated ?? false,
      disabled: false,
      downloads: dataset.downloads ?? 0,
      likes: dataset.likes ?? 0,
      lastModified,
      createdAt: lastModified,
      sha: shaOf(dataset),
      tags: dataset.tags ?? [],
      description: dataset.description ?? '',
      cardData: dataset.evaluationMetadata !== undefined && !isEmpty(dataset.evaluationMetadata) ? { 'train-eval-index': dataset.evaluationMetadata } : {},
    };
    const fields = expand ?? new Set(['private', 'gated', 'downloads', 'likes', 'lastModified', 'tags', 'createdAt', 'author', 'disabled']);
    const wire: Record<string, unknown> = { _id: shaOf(dataset).slice(0, 24), id: dataset.id };
    for (const field of fields) if (full[field] !== undefined) wire[field] = full[field];
    return wire;
  }

  const server = await listenOnLoopback(handle, (error, response) => sendJson(response, 500, { error: (error as Error).message }));
  baseUrl = server.origin;
  return {
    url: baseUrl,
    stats,
    requests,
    reset() {
      Object.assign(stats, emptyStats());
      requests.length = 0;
      requestIndex = 0;
    },
    close: () => server.close(),
  };
}

/** The parquet column type for a feature; nested features are left to the writer to infer. */
function parquetType(feature: DatasetFeatureFixture): 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | undefined {
  if (Array.isArray(feature)) return undefined;
  if (feature._type === 'ClassLabel') return 'INT32';
  if (feature._type !== 'Value') return undefined;
  const dtype = String(feature.dtype ?? '');
  if (dtype === 'string' || dtype === 'large_string') return 'STRING';
  if (/^u?int(8|16|32|64)$/.test(dtype)) return 'INT32';
  if (/^float(16|32|64)?$|^double$/.test(dtype)) return 'DOUBLE';
  if (dtype === 'bool') return 'BOOLEAN';
  return undefined;
}

function expandOf(url: URL): Set<string> | undefined {
  const expand = url.searchParams.getAll('expand');
  return expand.length > 0 ? new Set(expand) : undefined;
}

function shaOf(dataset: DatasetFixture): string {
  return createHash('sha1').update(`${dataset.id}@${dataset.lastModified ?? ''}`).digest('hex');
}

function bytesOf(rows: unknown[]): number {
  return Buffer.byteLength(JSON.stringify(rows));
}

function configBytes(config: DatasetConfigFixture): number {
  return Object.values(config.splits).reduce((total, rows) => total + bytesOf(rows), 0);
}

function isEmpty(value: unknown): boolean {
  return value == null || (typeof value === 'object' && Object.keys(value as object).length === 0);
}

function emptyStats(): DatasetsServerStats {
  return { requests: 0, listRequests: 0, viewerRequests: {}, parquetRequests: 0, rangeRequests: 0, parquetBytesServed: 0, faults: 0, byStatus: {} };
}

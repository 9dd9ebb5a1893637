import { hubDatasetFetch } from './dataset-viewer-request.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

export interface ReadParquetRowsRequest {
  /** The dataset the file belongs to (for errors about access). */
  dataset: string;
  /** A parquet file URL (from `listDatasetParquetFiles`). */
  url: string;
  /** File size in bytes, as `/parquet` reports it (saves a HEAD request). */
  size?: number;
  /** Top-level columns to read; default all. Only their column chunks are downloaded. */
  columns?: string[];
  /** First row (inclusive). Default 0. */
  rowStart?: number;
  /** Last row (exclusive). Default the file's end. */
  rowEnd?: number;
}

export interface ParquetRows {
  rows: Array<Record<string, unknown>>;
  /** Rows in the whole file. */
  numRows: number;
  /** Bytes fetched over HTTP (range requests only: footer plus the needed column chunks). */
  bytesFetched: number;
}

/**
 * Reads rows of a remote parquet file with hyparquet over HTTP range requests: the footer first,
 * then only the column chunks of the requested columns and row groups. Every range request goes
 * through the same retrying, authenticated fetch as the viewer calls. 64-bit integers come back
 * as numbers.
 */
export async function readParquetRows(request: ReadParquetRowsRequest, options: HubDatasetRequestOptions = {}): Promise<ParquetRows> {
  const resolved = resolveHubDatasetOptions(options);
  const { parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  let bytesFetched = 0;
  const range = (start: number, end: number | undefined): Promise<ArrayBuffer> =>
    hubDatasetFetch(
      resolved,
      request.dataset,
      request.url,
      { what: `parquet ${request.url.split('/').slice(-3).join('/')} of ${request.dataset}`, headers: { range: `bytes=${start}-${end === undefined ? '' : end - 1}`, accept: '*/*' } },
      async (response) => {
        const buffer = await response.arrayBuffer();
        // A server that ignores Range answers 200 with the whole file.
        const slice = response.status === 200 ? buffer.slice(start, end) : buffer;
        bytesFetched += buffer.byteLength;
        return slice;
      },
    );
  const byteLength = request.size ?? (await fileSize(resolved, request));
  // Ranges already fetched (the footer read covers the last column chunks of a small file), so no
  // byte is downloaded twice.
  const fetched: Array<{ start: number; end: number; buffer: Promise<ArrayBuffer> }> = [];
  const file = {
    byteLength,
    async slice(start: number, end: number = byteLength): Promise<ArrayBuffer> {
      const covering = fetched.find((range) => range.start <= start && range.end >= end);
      if (covering) return (await covering.buffer).slice(start - covering.start, end - covering.start);
      const entry = { start, end, buffer: range(start, end) };
      fetched.push(entry);
      entry.buffer.catch(() => fetched.splice(fetched.indexOf(entry), 1));
      return entry.buffer;
    },
  };
  // The footer of a Hub parquet shard is a few KB; 64 KB covers it in one request for most files.
  const metadata = await parquetMetadataAsync(file, { initialFetchSize: 1 << 16 });
  const numRows = Number(metadata.num_rows);
  const rowStart = Math.max(0, request.rowStart ?? 0);
  const rowEnd = Math.min(numRows, request.rowEnd ?? numRows);
  if (rowEnd <= rowStart) return { rows: [], numRows, bytesFetched };
  const rows = (await parquetReadObjects({
    file,
    metadata,
    rowStart,
    rowEnd,
    ...(request.columns ? { columns: request.columns } : {}),
  })) as Array<Record<string, unknown>>;
  return { rows: rows.map((row) => toPlain(row) as Record<string, unknown>), numRows, bytesFetched };
}

async function fileSize(resolved: ReturnType<typeof resolveHubDatasetOptions>, request: ReadParquetRowsRequest): Promise<number> {
  return hubDatasetFetch(resolved, request.dataset, request.url, { what: `size of ${request.url}`, headers: { range: 'bytes=0-0', accept: '*/*' } }, async (response) => {
    await response.arrayBuffer();
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? response.headers.get('content-length');
    if (!total) throw new Error('the server reported no file size');
    return Number(total);
  });
}

function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toPlain(item);
    return out;
  }
  return value;
}

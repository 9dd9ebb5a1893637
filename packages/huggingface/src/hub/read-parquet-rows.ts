import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Compressors, ParquetParsers } from 'hyparquet';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';
import { ParquetFileCache, type RemoteParquetFile } from './remote-parquet-file.js';

export interface ReadParquetRowsRequest {
  /** The dataset the file belongs to (for errors about access). */
  dataset: string;
  /** A parquet file URL (from `listDatasetParquetFiles`). */
  url: string;
  /** File size in bytes, as `/parquet` reports it (saves a request). */
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
 * through the same retrying, authenticated fetch as the viewer calls. Values come back as JSON:
 * see `plainParquetValue`. Pass a `ParquetFileCache` to share downloads between reads of one file.
 */
export async function readParquetRows(request: ReadParquetRowsRequest, options: HubDatasetRequestOptions & { files?: ParquetFileCache } = {}): Promise<ParquetRows> {
  const file = await (options.files ?? new ParquetFileCache()).open(resolveHubDatasetOptions(options), request);
  const rowStart = Math.max(0, request.rowStart ?? 0);
  const rowEnd = Math.min(file.numRows, request.rowEnd ?? file.numRows);
  const rows = rowEnd <= rowStart ? [] : await decodeParquetRows(file, { rowStart, rowEnd, ...(request.columns ? { columns: request.columns } : {}) });
  return { rows, numRows: file.numRows, bytesFetched: file.bytesFetched() };
}

/**
 * Decodes rows `[rowStart, rowEnd)` of an opened file (only the row groups they fall in are read).
 * Every codec parquet allows is read: SNAPPY, GZIP and BROTLI (node:zlib), ZSTD, LZ4 and LZ4_RAW
 * (hyparquet-compressors).
 */
export async function decodeParquetRows(file: RemoteParquetFile, range: { rowStart: number; rowEnd: number; columns?: string[] }): Promise<Array<Record<string, unknown>>> {
  const { parquetReadObjects } = await import('hyparquet');
  const rows = (await parquetReadObjects({
    file: file.buffer,
    metadata: file.metadata,
    rowStart: range.rowStart,
    rowEnd: range.rowEnd,
    ...(range.columns ? { columns: range.columns } : {}),
    compressors: await parquetCompressors(),
    // Byte arrays without a string type are binary (kept as base64), not text.
    utf8: false,
    parsers: exactTimestamps,
  })) as Array<Record<string, unknown>>;
  for (let i = 0; i < rows.length; i++) rows[i] = plainParquetValue(rows[i]) as Record<string, unknown>;
  return rows;
}

let compressorsLoaded: Promise<Compressors> | undefined;
function parquetCompressors(): Promise<Compressors> {
  compressorsLoaded ??= import('hyparquet-compressors').then(({ compressors }) => ({
    ...compressors,
    // node:zlib's native inflaters are several times faster than the JavaScript ones.
    GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
    BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
  }));
  return compressorsLoaded;
}

/** Timestamps as ISO 8601 text with every digit the file holds (a JavaScript Date keeps only milliseconds). */
const exactTimestamps: Partial<ParquetParsers> = {
  timestampFromMicroseconds: (micros: bigint) => isoTimestamp(micros, 1_000_000n, 6),
  timestampFromNanoseconds: (nanos: bigint) => isoTimestamp(nanos, 1_000_000_000n, 9),
};

function isoTimestamp(value: bigint, perSecond: bigint, digits: number): string {
  let seconds = value / perSecond;
  let fraction = value % perSecond;
  if (fraction < 0n) {
    fraction += perSecond;
    seconds -= 1n;
  }
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction.toString().padStart(digits, '0')}Z`;
}

/**
 * A parquet value as JSON without loss: 64-bit integers beyond 2^53 as decimal strings (smaller ones
 * as numbers), binary as base64, dates and millisecond timestamps as ISO 8601 text.
 */
export function plainParquetValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
    return value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = plainParquetValue(value[i]);
    return value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return value.toISOString();
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (item !== null && (typeof item === 'object' || typeof item === 'bigint')) record[key] = plainParquetValue(item);
  }
  return record;
}

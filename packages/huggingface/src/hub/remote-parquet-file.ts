import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { hubDatasetFetch } from './dataset-viewer-request.js';
import type { ResolvedHubDatasetOptions } from './hub-dataset-options.js';

/** One remote parquet file: its footer, and its bytes over HTTP range requests. */
export interface RemoteParquetFile {
  url: string;
  byteLength: number;
  metadata: FileMetaData;
  numRows: number;
  /** hyparquet's view of the file; ranges come from the cache when a kept range covers them. */
  buffer: AsyncBuffer;
  /** Bytes fetched over HTTP for this file so far. */
  bytesFetched(): number;
}

interface CachedRange {
  start: number;
  end: number;
  buffer: Promise<ArrayBuffer>;
}

/**
 * The parquet files one load reads, each opened once: the footer is fetched once, and byte ranges
 * read while `keep` is on (the sample that decides the column mapping) are served again from memory
 * to the load that follows, so no byte of a file is downloaded twice. Ranges read with `keep` off
 * (the bulk of a large load) are not held, so memory stays bounded by a row group.
 */
export class ParquetFileCache {
  /** Hold ranges read from now on (until `release()` or `keep = false`). */
  keep = true;
  private readonly files = new Map<string, Promise<RemoteParquetFile>>();
  private readonly ranges = new Map<string, CachedRange[]>();

  /** Drops the kept ranges (the footers stay: they are small and a later read needs them). */
  release(): void {
    this.ranges.clear();
    this.keep = false;
  }

  open(resolved: ResolvedHubDatasetOptions, request: { dataset: string; url: string; size?: number }): Promise<RemoteParquetFile> {
    let opened = this.files.get(request.url);
    if (!opened) {
      opened = this.openFile(resolved, request);
      this.files.set(request.url, opened);
      opened.catch(() => this.files.delete(request.url));
    }
    return opened;
  }

  private async openFile(resolved: ResolvedHubDatasetOptions, request: { dataset: string; url: string; size?: number }): Promise<RemoteParquetFile> {
    const { parquetMetadataAsync } = await import('hyparquet');
    let fetchedBytes = 0;
    const what = `parquet ${request.url.split('/').slice(-3).join('/')} of ${request.dataset}`;
    const fetchRange = (start: number, end: number): Promise<ArrayBuffer> =>
      hubDatasetFetch(resolved, request.dataset, request.url, { what, headers: { range: `bytes=${start}-${end - 1}`, accept: '*/*' } }, async (response) => {
        const body = await response.arrayBuffer();
        fetchedBytes += body.byteLength;
        // A server that ignores Range answers 200 with the whole file.
        return response.status === 200 ? body.slice(start, end) : body;
      });
    const byteLength = request.size ?? (await remoteFileSize(resolved, request, what));
    // The footer read is kept whatever `keep` says: on a small file its range holds the column chunks too.
    let readingFooter = true;
    const buffer: AsyncBuffer = {
      byteLength,
      slice: async (start: number, end: number = byteLength): Promise<ArrayBuffer> => {
        const list = this.ranges.get(request.url) ?? [];
        const covering = list.find((range) => range.start <= start && range.end >= end);
        if (covering) return (await covering.buffer).slice(start - covering.start, end - covering.start);
        const entry: CachedRange = { start, end, buffer: fetchRange(start, end) };
        if (this.keep || readingFooter) {
          list.push(entry);
          this.ranges.set(request.url, list);
          entry.buffer.catch(() => list.splice(list.indexOf(entry), 1));
        }
        return entry.buffer;
      },
    };
    // The footer of a Hub parquet shard is a few KB; 64 KB covers it in one request for most files.
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer, { initialFetchSize: 1 << 16 });
    } finally {
      readingFooter = false;
    }
    return { url: request.url, byteLength, metadata, numRows: Number(metadata.num_rows), buffer, bytesFetched: () => fetchedBytes };
  }
}

async function remoteFileSize(resolved: ResolvedHubDatasetOptions, request: { dataset: string; url: string }, what: string): Promise<number> {
  return hubDatasetFetch(resolved, request.dataset, request.url, { what: `size of ${what}`, headers: { range: 'bytes=0-0', accept: '*/*' } }, async (response) => {
    await response.arrayBuffer();
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1] ?? response.headers.get('content-length');
    if (!total) throw new Error('the server reported no file size');
    return Number(total);
  });
}

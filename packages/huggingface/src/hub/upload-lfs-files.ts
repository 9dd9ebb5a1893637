import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { APICallError, RequestScheduler, parseRetryAfter } from '@prompt2model/core/internal';
import type { PlannedUpload } from './model-upload-plan.js';

/** Files the Hub stores through LFS: weights and exports, and anything over 10 MB (the Hub's own rule). */
export function isLfsUpload(file: PlannedUpload): boolean {
  return /\.(safetensors|onnx|onnx_data|bin|model|pt|gguf)$/.test(file.path) || file.bytes > 10_000_000;
}

export interface LfsUploadOptions {
  hubUrl: string;
  repo: string;
  accessToken: string;
  fetch?: typeof fetch;
  /** Bounds every single request (one part, one batch call), never the whole upload. */
  scheduler: RequestScheduler;
  signal?: AbortSignal;
  /** Called as bytes are confirmed: after each part, each whole file, or a file found already uploaded. */
  onBytes?: (path: string, bytes: number, state: 'uploaded' | 'skipped') => void;
}

interface BatchObject {
  oid: string;
  size: number;
  error?: { code: number; message: string };
  actions?: { upload?: { href: string; header?: Record<string, string> } };
}

/**
 * Uploads LFS files to the repo's storage one by one, before the commit that names them, with the
 * Hub's LFS protocol as @huggingface/hub speaks it: a batch call per file (`basic` and `multipart`
 * transfers); an object the Hub already holds has no upload action and is skipped; a multipart
 * answer (`chunk_size` and one URL per part) is sent part by part, each part its own retried
 * request, then completed with the parts' ETags. The commit that follows finds every object
 * present and uploads nothing again.
 */
export async function uploadLfsFiles(files: readonly PlannedUpload[], options: LfsUploadOptions): Promise<{ uploaded: string[]; skipped: string[] }> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const uploaded: string[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    options.signal?.throwIfAborted();
    const oid = await sha256OfFile(file.file, options.signal);
    const object = await request(options, `LFS batch for ${file.path}`, `${options.hubUrl}/${options.repo}.git/info/lfs/objects/batch`, async (signal) => {
      const response = await doFetch(`${options.hubUrl}/${options.repo}.git/info/lfs/objects/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.accessToken}`, accept: 'application/vnd.git-lfs+json', 'content-type': 'application/vnd.git-lfs+json' },
        body: JSON.stringify({ operation: 'upload', transfers: ['basic', 'multipart'], hash_algo: 'sha_256', ref: { name: 'main' }, objects: [{ oid, size: file.bytes }] }),
        signal,
      });
      await throwUnlessOk(response, `LFS batch for ${file.path}`);
      const body = (await response.json()) as { objects?: BatchObject[] };
      const found = body.objects?.find((entry) => entry.oid === oid);
      if (!found) throw new APICallError({ message: `The Hub's LFS batch answer does not name ${file.path}.`, isRetryable: false });
      if (found.error) throw new APICallError({ message: `The Hub refused ${file.path}: ${found.error.message}`, statusCode: found.error.code, isRetryable: found.error.code >= 500 });
      return found;
    });
    const upload = object.actions?.upload;
    if (!upload) {
      skipped.push(file.path);
      options.onBytes?.(file.path, file.bytes, 'skipped');
      continue;
    }
    const chunkSize = Number(upload.header?.chunk_size);
    if (upload.header && Number.isFinite(chunkSize) && chunkSize > 0) {
      const parts = Object.keys(upload.header)
        .filter((key) => /^\d+$/.test(key))
        .sort((a, b) => Number(a) - Number(b));
      if (parts.length !== Math.ceil(file.bytes / chunkSize)) {
        throw new APICallError({ message: `The Hub offered ${parts.length} parts for ${file.path}, which needs ${Math.ceil(file.bytes / chunkSize)}.`, isRetryable: false });
      }
      const etags: Array<{ partNumber: number; etag: string }> = [];
      for (const part of parts) {
        const index = Number(part) - 1;
        const start = index * chunkSize;
        const end = Math.min(file.bytes, start + chunkSize);
        const body = await readSlice(file.file, start, end);
        const etag = await request(options, `part ${Number(part)} of ${file.path}`, upload.header[part]!, async (signal) => {
          const response = await doFetch(upload.header![part]!, { method: 'PUT', body, signal });
          await throwUnlessOk(response, `part ${Number(part)} of ${file.path}`);
          await response.arrayBuffer();
          const tag = response.headers.get('etag');
          if (!tag) throw new APICallError({ message: `The storage answered part ${Number(part)} of ${file.path} without an ETag.`, isRetryable: true });
          return tag;
        });
        etags.push({ partNumber: Number(part), etag });
        options.onBytes?.(file.path, end - start, 'uploaded');
      }
      await request(options, `completing ${file.path}`, upload.href, async (signal) => {
        const response = await doFetch(upload.href, {
          method: 'POST',
          headers: { accept: 'application/vnd.git-lfs+json', 'content-type': 'application/vnd.git-lfs+json' },
          body: JSON.stringify({ oid, parts: etags }),
          signal,
        });
        await throwUnlessOk(response, `completing ${file.path}`);
        await response.arrayBuffer();
      });
    } else {
      const body = await readSlice(file.file, 0, file.bytes);
      await request(options, `upload of ${file.path}`, upload.href, async (signal) => {
        const response = await doFetch(upload.href, { method: 'PUT', body, signal });
        await throwUnlessOk(response, `upload of ${file.path}`);
        await response.arrayBuffer();
      });
      options.onBytes?.(file.path, file.bytes, 'uploaded');
    }
    uploaded.push(file.path);
  }
  return { uploaded, skipped };
}

function request<T>(options: LfsUploadOptions, what: string, url: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
  return options.scheduler.run(
    async ({ signal }) => {
      try {
        return await task(options.signal ? AbortSignal.any([options.signal, signal]) : signal);
      } catch (error) {
        if (APICallError.isInstance(error) || (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError') throw error;
        // A connection cut mid-part is worth another try.
        throw new APICallError({ message: `Hugging Face: ${what} failed: ${(error as Error).message}`, url: redactUrl(url), isRetryable: true, cause: error });
      }
    },
    options.signal ? { signal: options.signal } : {},
  );
}

async function throwUnlessOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const text = await response.text().catch(() => '');
  const retryAfter = parseRetryAfter(response.headers);
  throw new APICallError({
    message: `Hugging Face: ${what} failed (${response.status}): ${text.slice(0, 300) || response.statusText}`,
    url: redactUrl(response.url),
    statusCode: response.status,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  });
}

/** Storage URLs carry signatures in the query: keep them out of errors. */
function redactUrl(url: string): string {
  return url.split('?')[0]!;
}

async function readSlice(path: string, start: number, end: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, start + offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

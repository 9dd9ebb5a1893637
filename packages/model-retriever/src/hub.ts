import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  APICallError,
  JsonlWriter,
  Prompt2ModelError,
  RequestScheduler,
  hashValue,
  throwIfAborted,
  writeJsonAtomic,
  type ProgressEmitter,
} from '@prompt2model/core';
import { ModelIndex, type BuildModelIndexOptions, type ModelCardRecord } from './model-index.js';
import { detectArchitecture, parseCardMetadata, type ModelConfigHints } from './model-card.js';

type HubModule = typeof import('@huggingface/hub');
interface HubRequestOptions {
  hubUrl: string;
  accessToken?: string;
  fetch: typeof fetch;
}

export const DEFAULT_HUB_URL = 'https://huggingface.co';
export const DEFAULT_HUB_TASKS = ['text2text-generation', 'text-generation'] as const;

export interface HubSnapshotOptions {
  /** Hub base URL (a mirror, or a loopback server in tests). Default `HF_ENDPOINT` or https://huggingface.co. */
  hubUrl?: string;
  /** Token for private or gated models. Default `HF_TOKEN`. */
  accessToken?: string;
  /** Pipeline tags to list. Default text2text-generation and text-generation. */
  tasks?: string[];
  /** Most models per task, most downloaded first. Default 1000. */
  limitPerTask?: number;
  /**
   * Cache folder: listings (fresh for `listingMaxAgeMs`) and one file per model, reused while the
   * model's lastModified is unchanged, so a second snapshot downloads only what changed.
   * Default `$P2M_CACHE_DIR/hub` or `~/.cache/prompt2model/hub`; `false` disables it.
   */
  cacheDir?: string | false;
  /** How long a cached listing is used without asking the Hub. Default 24 h. */
  listingMaxAgeMs?: number;
  /** Hub requests in flight at once (README and file-tree downloads). Default 8. */
  concurrency?: number;
  /** Retries, backoff and concurrency for Hub requests (core's scheduler). Default: a new one with `concurrency`. */
  scheduler?: RequestScheduler;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  events?: ProgressEmitter;
}

/** One model as the snapshot stores it: the JSON Lines row format, plus what the Hub tells. */
export interface HubModelRecord {
  id: string;
  card: string;
  sizeBytes?: number;
  downloads: number;
  parameters?: number;
  license?: string;
  architecture: ReturnType<typeof detectArchitecture>;
  pipelineTag?: string;
  lastModified?: string;
}

interface CachedModel {
  lastModified: string | null;
  record: HubModelRecord;
}

interface ListedModel {
  id: string;
  downloads: number;
  task?: string;
  lastModified: string | null;
  tags?: string[];
  config?: ModelConfigHints;
  cardData?: { license?: unknown };
  safetensors?: { parameters?: Record<string, number>; total?: number };
}

const dtypeBytes: Record<string, number> = {
  F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, F8_E4M3: 1, F8_E5M2: 1, I8: 1, U8: 1, BOOL: 1,
};

export function defaultHubCacheDir(): string {
  const base = process.env.P2M_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prompt2model');
  return join(base, 'hub');
}

/**
 * Lists models on the Hub by task (through @huggingface/hub's `listModels`) and fetches each
 * one's card (README.md) and weights size, with an on-disk cache. Requests run through core's
 * `RequestScheduler`, so 429 and 5xx answers are retried with backoff.
 */
export async function fetchHubModelCards(options: HubSnapshotOptions = {}): Promise<HubModelRecord[]> {
  // Loaded on first use: searching a saved index never needs the Hub client.
  const hub = await import('@huggingface/hub');
  const { downloadFile, listModels } = hub;
  const hubUrl = (options.hubUrl ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const accessToken = options.accessToken ?? process.env.HF_TOKEN ?? undefined;
  const credentials = accessToken ? { accessToken } : {};
  const scheduler = options.scheduler ?? new RequestScheduler({ maxConcurrency: options.concurrency ?? 8, ...(options.signal ? { signal: options.signal } : {}) });
  const cacheDir = options.cacheDir === false ? undefined : join(options.cacheDir ?? defaultHubCacheDir(), hostKey(hubUrl));
  const baseFetch = options.fetch ?? globalThis.fetch;
  const call = <T>(what: string, task: (common: HubRequestOptions) => Promise<T>) =>
    scheduler.run(
      async ({ signal }) => {
        // Every request of an attempt stops when the attempt times out or the run is cancelled.
        const attemptFetch: typeof fetch = (input, init) =>
          baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
        try {
          return await task({ hubUrl, ...credentials, fetch: attemptFetch });
        } catch (error) {
          throw toApiError(hub, error, what);
        }
      },
      options.signal ? { signal: options.signal } : {},
    );

  const tasks = options.tasks ?? [...DEFAULT_HUB_TASKS];
  const limit = options.limitPerTask ?? 1000;
  const listed = new Map<string, ListedModel>();
  for (const task of tasks) {
    throwIfAborted(options.signal);
    const models = await cachedListing(cacheDir, { hubUrl, task, limit }, options, () =>
      call(`list ${task} models`, async (common) => {
        const rows: ListedModel[] = [];
        for await (const model of listModels({
          ...common,
          search: { task: task as never },
          sort: 'downloads',
          limit,
          additionalFields: ['cardData', 'config', 'safetensors', 'tags'],
        })) {
          rows.push({
            id: model.name,
            downloads: model.downloads ?? 0,
            ...(model.task ? { task: model.task } : {}),
            lastModified: Number.isNaN(model.updatedAt.getTime()) ? null : model.updatedAt.toISOString(),
            ...(model.tags ? { tags: model.tags } : {}),
            ...(model.config ? { config: model.config as ModelConfigHints } : {}),
            ...(model.cardData ? { cardData: model.cardData as { license?: unknown } } : {}),
            ...(model.safetensors ? { safetensors: model.safetensors } : {}),
          });
        }
        return rows;
      }),
    );
    for (const model of models) if (!listed.has(model.id)) listed.set(model.id, model);
  }

  const total = listed.size;
  let done = 0;
  let fromCache = 0;
  const records = await Promise.all(
    [...listed.values()].map(async (model): Promise<HubModelRecord> => {
      const cachePath = cacheDir ? join(cacheDir, 'models', `${encodeURIComponent(model.id)}.json`) : undefined;
      const cached = cachePath ? await readJson<CachedModel>(cachePath) : undefined;
      let record: HubModelRecord;
      if (cached && model.lastModified !== null && cached.lastModified === model.lastModified) {
        record = { ...cached.record, downloads: model.downloads };
        fromCache++;
      } else {
        const card = await call(`README of ${model.id}`, async (common) => {
          const blob = await downloadFile({ ...common, repo: { type: 'model', name: model.id }, path: 'README.md', xet: false });
          return blob ? await blob.text() : '';
        });
        const parameters = parameterCount(model.safetensors);
        const sizeBytes = safetensorsBytes(model.safetensors) ?? (await call(`files of ${model.id}`, (common) => weightsSize(hub, common, model.id)));
        const license = normaliseLicense(model.cardData?.license) ?? parseCardMetadata(card).license;
        record = {
          id: model.id,
          card,
          downloads: model.downloads,
          architecture: detectArchitecture({
            id: model.id,
            card,
            ...(model.config ? { config: model.config } : {}),
            ...(model.task ? { pipelineTag: model.task } : {}),
            ...(model.tags ? { tags: model.tags } : {}),
          }),
          ...(sizeBytes !== undefined ? { sizeBytes } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
          ...(license ? { license } : {}),
          ...(model.task ? { pipelineTag: model.task } : {}),
          ...(model.lastModified ? { lastModified: model.lastModified } : {}),
        };
        if (cachePath) await writeJsonAtomic(cachePath, { lastModified: model.lastModified, record } satisfies CachedModel);
      }
      done++;
      if (done % 25 === 0 || done === total) {
        options.events?.emit({ type: 'progress', stage: 'index-build', done, total, counters: { cached: fromCache } });
      }
      return record;
    }),
  );
  return records;
}

/** Snapshots the Hub into a ModelIndex (see `fetchHubModelCards` for the options). */
export async function buildIndexFromHub(options: HubSnapshotOptions & BuildModelIndexOptions = {}): Promise<ModelIndex> {
  const records = await fetchHubModelCards(options);
  const hubUrl = options.hubUrl ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL;
  return ModelIndex.fromCards(records, { source: hubUrl, ...options });
}

/** Writes cards as JSON Lines (`{id, card, sizeBytes, downloads, ...}`), the offline snapshot format. */
export async function writeModelCardsJsonl(path: string, records: Iterable<ModelCardRecord | HubModelRecord>): Promise<number> {
  const writer = await JsonlWriter.open(path, { truncate: true });
  let count = 0;
  try {
    for (const record of records) {
      await writer.write(record);
      count++;
    }
  } finally {
    await writer.close();
  }
  return count;
}

async function cachedListing(
  cacheDir: string | undefined,
  key: { hubUrl: string; task: string; limit: number },
  options: HubSnapshotOptions,
  fetchListing: () => Promise<ListedModel[]>,
): Promise<ListedModel[]> {
  const path = cacheDir ? join(cacheDir, 'listings', `${hashValue(key).slice(0, 24)}.json`) : undefined;
  const cached = path ? await readJson<{ fetchedAt: number; models: ListedModel[] }>(path) : undefined;
  const maxAge = options.listingMaxAgeMs ?? 24 * 3600_000;
  if (cached && Date.now() - cached.fetchedAt <= maxAge) return cached.models;
  try {
    const models = await fetchListing();
    if (path) {
      await mkdir(join(cacheDir!, 'listings'), { recursive: true });
      await writeJsonAtomic(path, { fetchedAt: Date.now(), models });
    }
    return models;
  } catch (error) {
    // Offline with an old listing: better a day-old candidate list than none.
    if (cached && APICallError.isInstance(error) && error.isRetryable) {
      options.events?.log('warn', `Hub unreachable (${error.message}); using the cached ${key.task} listing from ${new Date(cached.fetchedAt).toISOString()}`, 'index-build');
      return cached.models;
    }
    throw error;
  }
}

function parameterCount(safetensors: ListedModel['safetensors']): number | undefined {
  if (!safetensors) return undefined;
  if (typeof safetensors.total === 'number' && safetensors.total > 0) return safetensors.total;
  const sum = Object.values(safetensors.parameters ?? {}).reduce((a, b) => a + b, 0);
  return sum > 0 ? sum : undefined;
}

function safetensorsBytes(safetensors: ListedModel['safetensors']): number | undefined {
  if (!safetensors?.parameters) return undefined;
  let bytes = 0;
  for (const [dtype, count] of Object.entries(safetensors.parameters)) bytes += count * (dtypeBytes[dtype.toUpperCase()] ?? 4);
  return bytes > 0 ? bytes : undefined;
}

/** Size of one framework's weights (safetensors, else PyTorch, else TF/Flax), from the file tree. */
async function weightsSize(
  hub: HubModule,
  common: HubRequestOptions,
  id: string,
): Promise<number | undefined> {
  const groups: Array<[RegExp, number]> = [
    [/\.safetensors$/, 0],
    [/^pytorch_model.*\.bin$/, 0],
    [/\.(h5|msgpack)$/, 0],
  ];
  for await (const file of hub.listFiles({ ...common, repo: { type: 'model', name: id }, recursive: true })) {
    if (file.type !== 'file') continue;
    const name = file.path.split('/').pop() ?? file.path;
    const group = groups.find(([pattern]) => pattern.test(name));
    if (group) group[1] += file.lfs?.size ?? file.size;
  }
  const found = groups.find(([, size]) => size > 0);
  return found?.[1];
}

function normaliseLicense(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.trim() !== '' ? first.trim().toLowerCase() : undefined;
}

function hostKey(hubUrl: string): string {
  try {
    const url = new URL(hubUrl);
    return `${url.hostname}${url.port ? `_${url.port}` : ''}`;
  } catch {
    return hashValue(hubUrl).slice(0, 16);
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function toApiError(hub: HubModule, error: unknown, what: string): unknown {
  if (APICallError.isInstance(error) || Prompt2ModelError.isInstance(error)) return error;
  if (error instanceof hub.HubApiError) {
    return new APICallError({
      message: `Hugging Face Hub: ${what} failed (${error.statusCode}): ${error.message}`,
      url: error.url,
      statusCode: error.statusCode,
      cause: error,
      ...(error.statusCode === 401 || error.statusCode === 403
        ? { hint: 'Set HF_TOKEN (or --hub-token) to a token with read access.' }
        : error.statusCode === 429
          ? { hint: 'The Hub is rate limiting; lower --concurrency or set HF_TOKEN for a higher limit.' }
          : {}),
    });
  }
  if (error instanceof hub.InvalidApiResponseFormatError) {
    return new APICallError({ message: `Hugging Face Hub: ${what}: unexpected response (${error.message})`, isRetryable: false, cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  // fetch failures (connection refused, DNS) are worth retrying.
  return new APICallError({
    message: `Hugging Face Hub: ${what} failed: ${(error as Error).message}`,
    cause: error,
    hint: 'Check the network, or use an offline index (--index FILE; `prompt2model index build` makes one).',
  });
}

import { join } from 'node:path';
import { APICallError, hashValue, permanentConnectionFailure, throwIfAborted } from '@prompt2model/core/internal';
import { createHubCaller, type HubCaller } from './create-hub-caller.js';
import { readCachedJson, writeCachedJson } from './disk-cache.js';
import { downloadModelCard } from './download-model-card.js';
import { defaultHubCacheDir, hubCacheFolder } from './hub-cache-dir.js';
import { listModelsRaw, toModelSummary } from './list-models.js';
import type { ApiListedModel, CachedListing } from './types/api.js';
import type { FetchHubModelsOptions, HubModel } from './types/public.js';
import { modelWeightsSize } from './weights-size.js';

export const DEFAULT_HUB_TASKS = ['text2text-generation', 'text-generation'] as const;

/** A cached model file (`models/<id>.json`), reused while the model's lastModified is unchanged. */
interface CachedModel {
  lastModified: string | null;
  record: HubModel;
}

/**
 * Lists models by task and fetches each one's card (README.md) and weights size, with an on-disk
 * cache: a listing is reused for `listingMaxAgeMs`, a model while its lastModified is unchanged, and
 * an old listing when the Hub is unreachable. Requests run through core's `RequestScheduler`, so 429
 * and 5xx answers are retried with backoff.
 */
export async function fetchHubModels(options: FetchHubModelsOptions & { caller?: HubCaller } = {}): Promise<HubModel[]> {
  const caller = options.caller ?? (await createHubCaller(options));
  const cacheDir = options.cacheDir === false ? undefined : hubCacheFolder(options.cacheDir ?? defaultHubCacheDir(), caller.hubUrl);
  const tasks = options.tasks ?? [...DEFAULT_HUB_TASKS];
  const limit = options.limitPerTask ?? 1000;
  const listed = new Map<string, ApiListedModel>();
  for (const task of tasks) {
    throwIfAborted(options.signal);
    const models = await cachedListing(cacheDir, { hubUrl: caller.hubUrl, task, limit }, options, () => listModelsRaw(caller, task, limit));
    for (const model of models) if (!listed.has(model.id)) listed.set(model.id, model);
  }

  const total = listed.size;
  let done = 0;
  let fromCache = 0;
  return Promise.all(
    [...listed.values()].map(async (model): Promise<HubModel> => {
      const cachePath = cacheDir ? join(cacheDir, 'models', `${encodeURIComponent(model.id)}.json`) : undefined;
      const cached = cachePath ? await readCachedJson<CachedModel>(cachePath) : undefined;
      let record: HubModel;
      if (cached && model.lastModified !== null && cached.lastModified === model.lastModified) {
        record = { ...cached.record, downloads: model.downloads };
        fromCache++;
      } else {
        const card = await downloadModelCard(model.id, { caller });
        const summary = toModelSummary(model);
        const sizeBytes = summary.sizeBytes ?? (await modelWeightsSize(caller, model.id));
        record = { ...summary, card, ...(sizeBytes !== undefined ? { sizeBytes } : {}) };
        if (cachePath) await writeCachedJson(cachePath, { lastModified: model.lastModified, record } satisfies CachedModel);
      }
      done++;
      if (done % 25 === 0 || done === total) {
        options.events?.emit({ type: 'progress', stage: 'index-build', done, total, counters: { cached: fromCache } });
      }
      return record;
    }),
  );
}

async function cachedListing(
  cacheDir: string | undefined,
  key: { hubUrl: string; task: string; limit: number },
  options: FetchHubModelsOptions,
  fetchListing: () => Promise<ApiListedModel[]>,
): Promise<ApiListedModel[]> {
  const path = cacheDir ? join(cacheDir, 'listings', `${hashValue(key).slice(0, 24)}.json`) : undefined;
  const cached = path ? await readCachedJson<CachedListing>(path) : undefined;
  const maxAge = options.listingMaxAgeMs ?? 24 * 3600_000;
  if (cached && Date.now() - cached.fetchedAt <= maxAge) return cached.models;
  try {
    const models = await fetchListing();
    if (path) await writeCachedJson(path, { fetchedAt: Date.now(), models } satisfies CachedListing);
    return models;
  } catch (error) {
    // Offline with an old listing: better a day-old candidate list than none.
    // Unreachable: a retryable failure, or a connection that cannot succeed (refused, unknown host),
    // which fails at once rather than being retried.
    if (cached && APICallError.isInstance(error) && (error.isRetryable || permanentConnectionFailure(error) !== undefined)) {
      options.events?.log('warn', `Hub unreachable (${error.message}); using the cached ${key.task} listing from ${new Date(cached.fetchedAt).toISOString()}`, 'index-build');
      return cached.models;
    }
    throw error;
  }
}

import { join } from 'node:path';
import { APICallError, hashValue, type ProgressEmitter } from '@prompt2model/core/internal';
import {
  defaultHubCacheDir,
  hubCacheFolder,
  listHubDatasets,
  readCachedJson,
  resolveHubDatasetOptions,
  writeCachedJson,
  type HubDatasetRecord,
  type ListHubDatasetsOptions,
} from '@prompt2model/huggingface/hub';
import { DatasetIndex } from './dataset-index.js';

export interface HubDatasetIndexOptions extends ListHubDatasetsOptions {
  /** Listing cache folder. Default the Hub cache; `false` disables it. */
  cacheDir?: string | false;
  /** How long a cached listing is used without asking the Hub. Default 24 h. */
  listingMaxAgeMs?: number;
  events?: ProgressEmitter;
}

/**
 * Indexes the Hub's most downloaded datasets. The Hub's own search matches names only, so the
 * listing (with descriptions and card data) is fetched once, cached on disk for a day, and
 * searched locally; offline, a stale cached listing is used rather than none.
 */
export async function buildDatasetIndexFromHub(options: HubDatasetIndexOptions = {}): Promise<DatasetIndex> {
  const resolved = resolveHubDatasetOptions(options);
  const key = { hubUrl: resolved.hubUrl, search: options.search ?? null, tags: options.tags ?? [], limit: options.limit ?? 1000 };
  const path = options.cacheDir === false ? undefined : join(hubCacheFolder(options.cacheDir ?? defaultHubCacheDir(), resolved.hubUrl), 'dataset-listings', `${hashValue(key).slice(0, 24)}.json`);
  const cached = path ? await readCachedJson<{ fetchedAt: number; datasets: HubDatasetRecord[] }>(path) : undefined;
  let datasets: HubDatasetRecord[];
  if (cached && Date.now() - cached.fetchedAt <= (options.listingMaxAgeMs ?? 24 * 3600_000)) {
    datasets = cached.datasets;
  } else {
    try {
      datasets = await listHubDatasets(options);
      if (path) await writeCachedJson(path, { fetchedAt: Date.now(), datasets });
    } catch (error) {
      if (cached && APICallError.isInstance(error) && error.isRetryable) {
        options.events?.log('warn', `Hub unreachable (${error.message}); using the cached dataset listing from ${new Date(cached.fetchedAt).toISOString()}`, 'retrieve-datasets');
        datasets = cached.datasets;
      } else throw error;
    }
  }
  return DatasetIndex.fromRecords(datasets, { source: resolved.hubUrl });
}

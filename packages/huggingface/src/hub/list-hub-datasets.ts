import { APICallError } from '@prompt2model/core/internal';
import { hubScheduler } from './dataset-viewer-request.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** One dataset of a Hub listing, with what retrieval indexes (description, card data). */
export interface HubDatasetRecord {
  id: string;
  description: string;
  downloads: number;
  likes: number;
  /** `false`, or how access is granted (`auto`: click to accept, `manual`: the owner approves). */
  gated: false | 'auto' | 'manual';
  private: boolean;
  tags: string[];
  /** The card's `train-eval-index` (config, splits, `col_mapping`), as in `datasets.jsonl`'s `evaluationMetadata`. */
  evaluationMetadata?: unknown;
  lastModified?: string;
}

export interface ListHubDatasetsOptions extends HubDatasetRequestOptions {
  /** Matches dataset names only (the Hub's own search); descriptions are indexed locally. */
  search?: string;
  /** Hub tags such as `task_categories:translation` or `language:de`. */
  tags?: string[];
  /** Most datasets, most downloaded first. Default 1000. */
  limit?: number;
}

/**
 * Lists Hub datasets through @huggingface/hub's `listDatasets`, asking for the description, card
 * data and tags (the listing alone has names only). The whole listing runs as one scheduler task,
 * so a 429 or 5xx mid-way retries it with backoff.
 */
export async function listHubDatasets(options: ListHubDatasetsOptions = {}): Promise<HubDatasetRecord[]> {
  const resolved = resolveHubDatasetOptions(options);
  const hub = await import('@huggingface/hub');
  return hubScheduler(resolved).run(
    async ({ signal }) => {
      const records: HubDatasetRecord[] = [];
      const attemptFetch: typeof fetch = (input, init) => resolved.fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
      try {
        for await (const entry of hub.listDatasets({
          hubUrl: resolved.hubUrl,
          ...(resolved.accessToken ? { accessToken: resolved.accessToken } : {}),
          fetch: attemptFetch,
          search: { ...(options.search ? { query: options.search } : {}), ...(options.tags?.length ? { tags: options.tags } : {}) },
          sort: 'downloads',
          limit: options.limit ?? 1000,
          additionalFields: ['description', 'cardData', 'tags'],
        })) {
          const cardData = (entry.cardData ?? {}) as Record<string, unknown>;
          const evaluation = cardData['train-eval-index'];
          records.push({
            id: entry.name,
            description: typeof entry.description === 'string' ? entry.description : '',
            downloads: entry.downloads ?? 0,
            likes: entry.likes ?? 0,
            gated: entry.gated ?? false,
            private: entry.private ?? false,
            tags: entry.tags ?? [],
            ...(evaluation !== undefined ? { evaluationMetadata: evaluation } : {}),
            ...(Number.isNaN(entry.updatedAt.getTime()) ? {} : { lastModified: entry.updatedAt.toISOString() }),
          });
        }
      } catch (error) {
        if (error instanceof hub.HubApiError) {
          throw new APICallError({
            message: `Hugging Face Hub: listing datasets failed (${error.statusCode}): ${error.message}`,
            url: error.url,
            statusCode: error.statusCode,
            cause: error,
            ...(error.statusCode === 401 || error.statusCode === 403 ? { hint: 'Set HF_TOKEN (or `accessToken`) to a token with read access.' } : {}),
          });
        }
        if ((error as Error).name === 'AbortError' || APICallError.isInstance(error)) throw error;
        throw new APICallError({
          message: `Hugging Face Hub: listing datasets failed: ${(error as Error).message}`,
          cause: error,
          hint: 'Check the network (or HF_ENDPOINT), or search an offline `index` file.',
        });
      }
      return records;
    },
    resolved.signal ? { signal: resolved.signal } : {},
  );
}

import { APICallError } from '@prompt2model/core/internal';
import { createHubCaller, type HubCaller } from './create-hub-caller.js';
import { DatasetNotFoundError } from './dataset-not-found-error.js';
import type { HubClientOptions } from './types/public.js';

/**
 * A dataset's current commit (sha), gating and card `train-eval-index`, through @huggingface/hub's
 * `datasetInfo`: what row caches are keyed by. An id the Hub does not know ("Repository not found",
 * 401 without a token, 404 with one) is a `DatasetNotFoundError`, not an access problem.
 */
export async function getDatasetRevision(
  id: string,
  options: HubClientOptions & { caller?: HubCaller; revision?: string } = {},
): Promise<{ sha: string | undefined; gated: false | 'auto' | 'manual'; lastModified?: string; evaluationMetadata?: unknown }> {
  const caller = options.caller ?? (await createHubCaller(options));
  const info = caller.call(`info of dataset ${id}`, async (common) => {
    const info = await caller.hub.datasetInfo({ ...common, name: id, additionalFields: ['sha', 'cardData'], ...(options.revision ? { revision: options.revision } : {}) });
    const evaluation = (info.cardData as Record<string, unknown> | undefined)?.['train-eval-index'];
    return {
      sha: typeof info.sha === 'string' ? info.sha : undefined,
      ...(evaluation !== undefined ? { evaluationMetadata: evaluation } : {}),
      gated: info.gated ?? false,
      ...(Number.isNaN(info.updatedAt.getTime()) ? {} : { lastModified: info.updatedAt.toISOString() }),
    };
  });
  return info.catch((error: unknown) => {
    if (APICallError.isInstance(error) && (error.statusCode === 401 || error.statusCode === 404) && /repository not found/i.test(error.message)) {
      throw new DatasetNotFoundError({ dataset: id, hadToken: Boolean(options.accessToken), cause: error });
    }
    throw error;
  });
}

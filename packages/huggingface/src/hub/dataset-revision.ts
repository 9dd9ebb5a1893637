import { createHubCaller, type HubCaller } from './create-hub-caller.js';
import type { HubClientOptions } from './types/public.js';

/** A dataset's current commit (sha) and gating, through @huggingface/hub's `datasetInfo`: what row caches are keyed by. */
export async function getDatasetRevision(
  id: string,
  options: HubClientOptions & { caller?: HubCaller; revision?: string } = {},
): Promise<{ sha: string | undefined; gated: false | 'auto' | 'manual'; lastModified?: string }> {
  const caller = options.caller ?? (await createHubCaller(options));
  return caller.call(`info of dataset ${id}`, async (common) => {
    const info = await caller.hub.datasetInfo({ ...common, name: id, additionalFields: ['sha'], ...(options.revision ? { revision: options.revision } : {}) });
    return {
      sha: typeof info.sha === 'string' ? info.sha : undefined,
      gated: info.gated ?? false,
      ...(Number.isNaN(info.updatedAt.getTime()) ? {} : { lastModified: info.updatedAt.toISOString() }),
    };
  });
}

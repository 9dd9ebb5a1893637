import { createHubCaller, type HubCaller } from './create-hub-caller.js';
import type { HubClientOptions } from './types/public.js';

/** A model's README.md (its card); '' when the repo has none. */
export async function downloadModelCard(id: string, options: HubClientOptions & { caller?: HubCaller } = {}): Promise<string> {
  const caller = options.caller ?? (await createHubCaller(options));
  return caller.call(`README of ${id}`, async (common) => {
    const blob = await caller.hub.downloadFile({ ...common, repo: { type: 'model', name: id }, path: 'README.md', xet: false });
    return blob ? await blob.text() : '';
  });
}

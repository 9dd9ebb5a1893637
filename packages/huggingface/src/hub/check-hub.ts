import { APICallError, RequestScheduler } from '@prompt2model/core/internal';
import { createHubCaller } from './create-hub-caller.js';
import type { HubClientOptions } from './types/public.js';

/** Hub ids: `name` or `namespace/name`, letters, digits, `-`, `_`, `.`, at most 96 characters (the Hub's rule). */
const HUB_REPO_ID = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;

/** Whether `id` has the form of a Hub model id (checked before any request). */
export function isHubRepoId(id: string): boolean {
  return HUB_REPO_ID.test(id) && !id.includes('--') && !id.includes('..') && id.length <= 96;
}

/**
 * One cheap request that proves the Hub answers (a one-model listing), bounded to `timeoutMs`
 * (default 15 s) and one retry: what a preflight asks before any paid call.
 */
export async function checkHubReachable(options: HubClientOptions & { timeoutMs?: number } = {}): Promise<void> {
  const scheduler = new RequestScheduler({ maxRetries: 1, initialBackoffMs: 500, timeoutMs: options.timeoutMs ?? 15_000, ...(options.signal ? { signal: options.signal } : {}) });
  const caller = await createHubCaller({ ...options, scheduler });
  await caller.call('a one-model listing', async (common) => {
    for await (const _model of caller.hub.listModels({ ...common, limit: 1 })) break;
  });
}

/**
 * Checks that a model id names a model on the Hub: its form first (no request), then the model's
 * info. A 404 (or a 401 for a private/gated model without a token) is an APICallError whose
 * message names the id.
 */
export async function checkHubModelExists(id: string, options: HubClientOptions & { timeoutMs?: number } = {}): Promise<void> {
  if (!isHubRepoId(id)) {
    throw new APICallError({
      message: `"${id}" is not a Hugging Face model id (expected "name" or "namespace/name": letters, digits, -, _ and .) nor an existing local folder.`,
      isRetryable: false,
      hint: 'Pass a Hub id such as google/flan-t5-small, or the path of a local model folder (starting with ./ or /).',
    });
  }
  const scheduler = new RequestScheduler({ maxRetries: 1, initialBackoffMs: 500, timeoutMs: options.timeoutMs ?? 15_000, ...(options.signal ? { signal: options.signal } : {}) });
  const caller = await createHubCaller({ ...options, scheduler });
  try {
    await caller.call(`model info of ${id}`, (common) => caller.hub.modelInfo({ ...common, name: id }));
  } catch (error) {
    if (APICallError.isInstance(error) && (error.statusCode === 404 || error.statusCode === 401)) {
      throw new APICallError({
        message: `There is no model "${id}" on the Hugging Face Hub at ${caller.hubUrl}${error.statusCode === 401 ? ' that this token may read (private or gated)' : ''}.`,
        url: caller.hubUrl,
        statusCode: error.statusCode,
        isRetryable: false,
        cause: error,
        hint: error.statusCode === 401 ? 'Check the id; for a private or gated model set HF_TOKEN to a token with access.' : 'Check the spelling of the id (namespace/name), or pass a local model folder.',
      });
    }
    throw error;
  }
}

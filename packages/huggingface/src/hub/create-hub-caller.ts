import { RequestScheduler } from '@prompt2model/core/internal';
import { resolveHubToken } from './hub-token.js';
import { resolveHubUrl } from './hub-url.js';
import { toHubError } from './to-hub-error.js';
import type { HubClientOptions } from './types/public.js';

export type HubModule = typeof import('@huggingface/hub');

/** What every @huggingface/hub function takes: base URL, credentials and the fetch to use. */
export interface HubRequestOptions {
  hubUrl: string;
  accessToken?: string;
  fetch: typeof fetch;
}

export interface HubCaller {
  /** The @huggingface/hub module, loaded on first use. */
  hub: HubModule;
  hubUrl: string;
  scheduler: RequestScheduler;
  /**
   * Runs one Hub request through core's scheduler (concurrency, retries with backoff, per-attempt
   * timeout), mapping failures to APICallError. `what` names the request in error messages.
   */
  call<T>(what: string, task: (common: HubRequestOptions) => Promise<T>): Promise<T>;
}

/** The one way this package talks to the Hub; list, download and upload functions build on it. */
export async function createHubCaller(options: HubClientOptions = {}): Promise<HubCaller> {
  // Loaded on first use: searching a saved index never needs the Hub client.
  const hub = await import('@huggingface/hub');
  const hubUrl = resolveHubUrl(options.hubUrl);
  const accessToken = resolveHubToken(options.accessToken);
  const credentials = accessToken ? { accessToken } : {};
  const scheduler =
    options.scheduler ?? new RequestScheduler({ maxConcurrency: options.concurrency ?? 8, ...(options.signal ? { signal: options.signal } : {}) });
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
          throw toHubError(hub, error, what, hubUrl);
        }
      },
      options.signal ? { signal: options.signal } : {},
    );
  return { hub, hubUrl, scheduler, call };
}

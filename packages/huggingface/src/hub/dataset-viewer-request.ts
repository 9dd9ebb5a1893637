import { APICallError, RequestScheduler, parseRetryAfter } from '@prompt2model/core/internal';
import { GatedDatasetError } from './gated-dataset-error.js';
import type { ResolvedHubDatasetOptions } from './hub-dataset-options.js';

// The viewer's `X-Error-Code`s that mean "gated or private, and this request may not see it".
const accessCodes = new Set(['ExternalUnauthenticatedError', 'ExternalAuthenticatedError', 'GatedExtraFieldsError', 'GatedDisabledError']);

let sharedScheduler: RequestScheduler | undefined;

/** The scheduler a call runs on: the caller's, else one per process (retries, backoff, 8 in flight). */
export function hubScheduler(options: ResolvedHubDatasetOptions): RequestScheduler {
  if (options.scheduler) return options.scheduler;
  return (sharedScheduler ??= new RequestScheduler({ maxConcurrency: 8, maxRetries: 5, initialBackoffMs: 500 }));
}

/**
 * Runs one HTTP request against the Hub or the dataset viewer through core's scheduler: 429 and 5xx
 * (the viewer's `ResponseNotReady` is a 500) are retried with backoff, and a gated or private
 * dataset becomes a `GatedDatasetError` that names the page to accept its terms.
 */
export async function hubDatasetFetch<T>(
  options: ResolvedHubDatasetOptions,
  dataset: string,
  url: string,
  init: { headers?: Record<string, string>; what: string; method?: string },
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (options.accessToken) headers.authorization = `Bearer ${options.accessToken}`;
  return hubScheduler(options).run(
    async ({ signal }) => {
      let response: Response;
      try {
        response = await options.fetch(url, { headers, ...(init.method ? { method: init.method } : {}), signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal });
      } catch (error) {
        if ((error as Error).name === 'AbortError') throw error;
        throw new APICallError({
          message: `Hugging Face: ${init.what} failed: ${(error as Error).message}`,
          url,
          cause: error,
          hint: 'Check the network (or HF_ENDPOINT), or search an offline `index` file.',
        });
      }
      if (response.ok) {
        // Read inside the attempt: a body cut off mid-way is retried like a failed request.
        try {
          return await read(response);
        } catch (error) {
          if (APICallError.isInstance(error) || (error as Error).name === 'AbortError') throw error;
          throw new APICallError({ message: `Hugging Face: ${init.what}: reading the response failed: ${(error as Error).message}`, url, isRetryable: true, cause: error });
        }
      }
      const body = await response.text().catch(() => '');
      const code = response.headers.get('x-error-code') ?? undefined;
      if (response.status === 401 || response.status === 403 || (code && accessCodes.has(code))) {
        throw new GatedDatasetError({ dataset, pageUrl: `${options.hubUrl}/datasets/${dataset}`, hadToken: options.accessToken !== undefined });
      }
      const message = errorMessage(body);
      throw new APICallError({
        message: `Hugging Face: ${init.what} failed (${response.status}${code ? ` ${code}` : ''}): ${message}`,
        url,
        statusCode: response.status,
        responseBody: body,
        // 501 is the viewer's "not supported for this dataset" (no parquet, viewer disabled): asking again never helps.
        ...(response.status === 501 ? { isRetryable: false } : {}),
        ...(parseRetryAfter(response.headers) !== undefined ? { retryAfterMs: parseRetryAfter(response.headers)! } : {}),
        hint:
          response.status === 404
            ? `Check the dataset name, config and split (prompt2model datasets show ${dataset}).`
            : response.status === 429
              ? 'The Hub is rate limiting; set HF_TOKEN for a higher limit, or wait.'
              : code === 'ResponseNotReady'
                ? 'The dataset viewer is still processing this dataset; retry in a few minutes.'
                : 'The Hub answered with an error; retry later.',
      });
    },
    options.signal ? { signal: options.signal } : {},
  );
}

/** GET a dataset viewer endpoint and parse its JSON. */
export async function datasetViewerGet(
  options: ResolvedHubDatasetOptions,
  endpoint: string,
  params: Record<string, string | number | undefined>,
): Promise<unknown> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const dataset = String(params.dataset ?? '');
  const url = `${options.datasetViewerUrl}/${endpoint}?${search.toString()}`;
  return hubDatasetFetch(options, dataset, url, { what: `dataset viewer /${endpoint} for ${dataset}` }, async (response) => {
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new APICallError({ message: `Hugging Face: dataset viewer /${endpoint} for ${dataset} returned invalid JSON`, url, statusCode: response.status, responseBody: text, isRetryable: true, cause: error });
    }
  });
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const message = parsed.error ?? parsed.message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  return body.slice(0, 300) || 'no details';
}

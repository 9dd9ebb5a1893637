import { Prompt2ModelError } from './prompt2model-error.js';
import { redactSecrets } from '../util/redact.js';

const marker = 'prompt2model.error.api-call';
const symbol = Symbol.for(marker);

/** A remote API answered with an error or could not be reached. */
export class APICallError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly url: string | undefined;
  readonly statusCode: number | undefined;
  /** Whether sending the same request again may succeed (408, 409, 429, 5xx, network errors). */
  readonly isRetryable: boolean;
  /** Server-requested wait before retrying (from Retry-After / retry-after-ms), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  readonly responseBody: string | undefined;
  /**
   * Set when the request got no answer in time: `first-byte` when the server sent not even the
   * response headers within the first-byte bound (a hung or overloaded endpoint), `total` when the
   * whole answer took longer than the request bound.
   */
  readonly timeout: 'first-byte' | 'total' | undefined;

  constructor(options: {
    message: string;
    url?: string;
    statusCode?: number;
    isRetryable?: boolean;
    retryAfterMs?: number;
    responseBody?: string;
    cause?: unknown;
    hint?: string;
    timeout?: 'first-byte' | 'total';
  }) {
    super({
      name: 'APICallError',
      message: redactSecrets(options.message),
      cause: options.cause,
      hint: options.hint ?? hintForStatus(options.statusCode),
    });
    this.url = options.url === undefined ? undefined : redactSecrets(options.url);
    this.statusCode = options.statusCode;
    this.isRetryable = options.isRetryable ?? isRetryableStatus(options.statusCode);
    this.retryAfterMs = options.retryAfterMs;
    this.timeout = options.timeout;
    this.responseBody =
      options.responseBody === undefined ? undefined : redactSecrets(options.responseBody).slice(0, 2000);
  }

  /**
   * Whether the failure is the caller's setup rather than the service: a wrong key (401/403), a
   * wrong model or URL (404), or an endpoint that cannot be reached as configured (refused
   * connection, unknown host, not an OpenAI-compatible answer). The CLI exits 2 for these.
   */
  get isConfigurationError(): boolean {
    if (this.isRetryable) return false;
    return this.statusCode === undefined || this.statusCode === 401 || this.statusCode === 403 || this.statusCode === 404;
  }

  static override isInstance(error: unknown): error is APICallError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

/** 408 timeout, 409 conflict, 429 rate limit and every 5xx are worth retrying; no status means a network error. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function hintForStatus(status: number | undefined): string | undefined {
  switch (status) {
    case 401:
      return 'Check the API key in OPENAI_API_KEY for this endpoint (and that `baseURL` / OPENAI_BASE_URL points at the server the key belongs to).';
    case 403:
      return 'The key is valid but lacks access to this model or resource.';
    case 404:
      return 'Check the model name and the base URL (OPENAI_BASE_URL or `baseURL`).';
    case 429:
      return 'The endpoint is rate limiting; lower `requestsPerMinute` / `maxConcurrency` or wait.';
    default:
      return undefined;
  }
}

/** Parses Retry-After (seconds or HTTP date) and retry-after-ms headers into milliseconds. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms != null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value == null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  return undefined;
}

import { APICallError, LoadSettingError, Prompt2ModelError, permanentConnectionFailure } from '@prompt2model/core/internal';

type HubModule = typeof import('@huggingface/hub');

/**
 * Maps what @huggingface/hub throws to core's APICallError (retryable or not, with a hint that
 * names the fix). The Hub client's errors never carry the Authorization header.
 */
export function toHubError(hub: HubModule, error: unknown, what: string, hubUrl?: string): unknown {
  if (APICallError.isInstance(error) || Prompt2ModelError.isInstance(error)) return error;
  if (error instanceof hub.HubApiError) {
    return new APICallError({
      message: `Hugging Face Hub: ${what} failed (${error.statusCode}): ${error.message}`,
      url: error.url,
      statusCode: error.statusCode,
      cause: error,
      ...(error.statusCode === 401 || error.statusCode === 403
        ? { hint: 'Set HF_TOKEN (or `accessToken`) to a token with read access.' }
        : error.statusCode === 429
          ? { hint: 'The Hub is rate limiting; lower `maxConcurrency` or set HF_TOKEN for a higher limit.' }
          : {}),
    });
  }
  // @huggingface/hub checks the token before any request and throws a TypeError: a setting to fix
  // (exit 2), never worth a retry. The message names no part of the token.
  if (error instanceof TypeError && /access token must start with 'hf_'/i.test(error.message)) {
    return new LoadSettingError({
      message: 'The Hugging Face token is not a Hub token (Hub tokens start with hf_).',
      environmentVariableName: 'HF_TOKEN',
      hint: 'Set HF_TOKEN (or `accessToken`) to a token from https://huggingface.co/settings/tokens (it starts with hf_).',
    });
  }
  if (error instanceof hub.InvalidApiResponseFormatError) {
    return new APICallError({ message: `Hugging Face Hub: ${what}: unexpected response (${error.message})`, isRetryable: false, cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') return error;
  // A refused connection or an unknown host cannot succeed as configured: fail at once (exit 2).
  const permanent = permanentConnectionFailure(error);
  if (permanent) {
    return new APICallError({
      message: `Could not connect to the Hugging Face Hub${hubUrl ? ` at ${hubUrl}` : ''}: ${permanent.reason} (${permanent.code}).`,
      ...(hubUrl ? { url: hubUrl } : {}),
      isRetryable: false,
      cause: error,
      hint: 'Check the network and HF_ENDPOINT, or work offline with a local `index` file (`prompt2model index build` makes one).',
    });
  }
  // Other fetch failures (a reset, a timeout) are worth retrying.
  return new APICallError({
    message: `Hugging Face Hub: ${what} failed: ${(error as Error).message}`,
    cause: error,
    hint: 'Check the network, or use an offline `index` file (`prompt2model index build` makes one).',
  });
}

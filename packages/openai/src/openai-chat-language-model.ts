import type OpenAI from 'openai';
import {
  AbortError,
  APICallError,
  Prompt2ModelError,
  parseRetryAfter,
  type FinishReason,
  type LanguageModel,
  type LanguageModelRequest,
  type LanguageModelResponse,
  errorCode,
  permanentConnectionFailure,
} from '@prompt2model/core/internal';
import { configSecrets, createOpenAIClient, isOpenAIItself, type OpenAIConfig } from './openai-config.js';
import { openAISdkClasses } from './openai-sdk.js';
import { countTextTokens, openAIEncoder, openAIEncodingOf } from './openai-fine-tuning-tokens.js';

export interface OpenAIChatSettings {
  /** Most choices one request asks for with `n`. Default 128; set 1 for servers that ignore `n` (Ollama). */
  maxChoicesPerRequest?: number;
  contextWindow?: number;
  /**
   * How structured output is requested: `json_schema` (strict schemas, OpenAI and recent vLLM),
   * `json_object` (schema given in the prompt), or `prompt` (no response_format at all). Default
   * `json_schema`, falling back automatically when the server rejects it.
   */
  structuredOutputs?: 'json_schema' | 'json_object' | 'prompt';
  /** Which token-limit parameter to send. Default: `max_completion_tokens` for api.openai.com, else `max_tokens`. */
  maxTokensParameter?: 'max_tokens' | 'max_completion_tokens';
}

const FALLBACK_ORDER = ['json_schema', 'json_object', 'prompt'] as const;

/**
 * A LanguageModel over an OpenAI-compatible chat-completions endpoint, through the official SDK.
 * Create it with `createOpenAI(...)(modelId)`: it takes the provider's resolved config and reads
 * no environment variable itself.
 */
export class OpenAIChatLanguageModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai';
  readonly modelId: string;
  readonly maxChoicesPerRequest: number;
  readonly contextWindow: number | undefined;
  private structuredMode: (typeof FALLBACK_ORDER)[number];
  private client: OpenAI | undefined;
  private readonly config: OpenAIConfig;
  private readonly maxTokensParameter: 'max_tokens' | 'max_completion_tokens';

  constructor(modelId: string, config: OpenAIConfig, settings: OpenAIChatSettings = {}) {
    this.modelId = modelId;
    this.config = config;
    this.maxChoicesPerRequest = settings.maxChoicesPerRequest ?? 128;
    this.contextWindow = settings.contextWindow;
    this.structuredMode = settings.structuredOutputs ?? 'json_schema';
    this.maxTokensParameter =
      settings.maxTokensParameter ?? (isOpenAIItself(config) ? 'max_completion_tokens' : 'max_tokens');
  }

  /** The endpoint this model talks to. */
  get baseURL(): string {
    return this.config.baseURL;
  }

  /** Part of the LLM cache key: answers of one server are never served for another. */
  get endpoint(): string {
    return this.config.baseURL;
  }

  /**
   * OpenAI's tokenizer for this model (o200k_base or cl100k_base by model family), so a run's
   * estimate counts prompts as OpenAI bills them. A compatible server's model gets the same
   * BPE: closer to any modern tokenizer than four characters a token.
   */
  async tokenCounter(): Promise<(text: string) => number> {
    const encoder = await openAIEncoder(openAIEncodingOf(this.modelId));
    return (text) => countTextTokens(encoder, text);
  }

  /**
   * One cheap request that proves the key and the base URL work before anything is spent: the
   * models list (no tokens). A server without `/models` (404/405) gets a one-token chat request.
   */
  async checkAccess(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const secrets = configSecrets(this.config);
    // The SDK's timeout bounds the wait for the response headers: a server that accepts the
    // connection and never answers fails here, in seconds, naming the URL.
    const timeout = options.timeoutMs ?? 15_000;
    const requestOptions = { ...(options.signal ? { signal: options.signal } : {}), timeout };
    let listed: unknown;
    try {
      listed = await (await this.getClient()).get('/models', requestOptions);
    } catch (error) {
      if (error instanceof openAISdkClasses().APIError && (error.status === 404 || error.status === 405)) {
        await (await this.getClient())
          .chat.completions.create({ model: this.modelId, messages: [{ role: 'user', content: 'ping' }], [this.maxTokensParameter]: 1 }, requestOptions)
          .catch((inner: unknown) => {
            throw toAPICallError(inner, this.config.baseURL, secrets, timeout);
          });
        return;
      }
      throw toAPICallError(error, this.config.baseURL, secrets, timeout);
    }
    if (!listed || typeof listed !== 'object' || !Array.isArray((listed as { data?: unknown }).data)) {
      throw notOpenAIAnswer(`${this.config.baseURL}/models`, listed);
    }
  }

  private async getClient(): Promise<OpenAI> {
    // Retries and timeouts belong to core's scheduler, the one place that knows the rate budget.
    this.client ??= await createOpenAIClient(this.config, { maxRetries: 0, timeout: 10 * 60 * 1000 });
    return this.client;
  }

  async doGenerate(request: LanguageModelRequest): Promise<LanguageModelResponse> {
    for (;;) {
      const mode = this.structuredMode;
      try {
        return await this.send(request, mode);
      } catch (error) {
        const next = FALLBACK_ORDER[FALLBACK_ORDER.indexOf(mode) + 1];
        if (request.responseFormat?.type === 'json' && next && isUnsupportedResponseFormat(error)) {
          // The server lacks this structured-output mode: remember and use the next one from now on.
          this.structuredMode = next;
          continue;
        }
        throw toAPICallError(error, this.config.baseURL, configSecrets(this.config), request.firstByteTimeoutMs);
      }
    }
  }

  private async send(request: LanguageModelRequest, mode: (typeof FALLBACK_ORDER)[number]): Promise<LanguageModelResponse> {
    const messages = request.messages.map((m) => ({ role: m.role, content: m.content }));
    const format = request.responseFormat;
    let responseFormat: OpenAI.Chat.Completions.ChatCompletionCreateParams['response_format'];
    if (format?.type === 'json') {
      if (mode === 'json_schema' && format.schema) {
        responseFormat = {
          type: 'json_schema',
          json_schema: { name: sanitizeName(format.name ?? 'response'), schema: format.schema, strict: false, ...(format.description ? { description: format.description } : {}) },
        };
      } else {
        if (mode !== 'prompt') responseFormat = { type: 'json_object' };
        // Without server-side schemas, the schema goes into the prompt.
        const instruction = format.schema
          ? `Answer with only a JSON object matching this JSON schema:\n${JSON.stringify(format.schema)}`
          : 'Answer with only a JSON object.';
        messages.unshift({ role: 'system', content: instruction });
      }
    }
    const completion = await (await this.getClient()).chat.completions.create(
      {
        model: this.modelId,
        messages: messages as OpenAI.Chat.Completions.ChatCompletionMessageParam[],
        ...(request.n !== undefined && request.n !== 1 ? { n: request.n } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(request.topP !== undefined ? { top_p: request.topP } : {}),
        ...(request.maxTokens !== undefined ? { [this.maxTokensParameter]: request.maxTokens } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(request.stop ? { stop: request.stop } : {}),
        ...(responseFormat ? { response_format: responseFormat } : {}),
      },
      {
        ...(request.abortSignal ? { signal: request.abortSignal } : {}),
        // The SDK's timeout ends when the response headers arrive: the first-byte bound.
        ...(request.firstByteTimeoutMs ? { timeout: request.firstByteTimeoutMs } : {}),
      },
    );
    if (!completion || typeof completion !== 'object' || !Array.isArray(completion.choices)) {
      throw notOpenAIAnswer(this.config.baseURL, completion);
    }
    return {
      choices: completion.choices.map((choice) => ({
        text: choice.message?.content ?? '',
        finishReason: mapFinishReason(choice.finish_reason),
      })),
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
      ...(completion.model && completion.model !== this.modelId ? { modelId: completion.model } : {}),
    };
  }
}

function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'response';
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

function isUnsupportedResponseFormat(error: unknown): boolean {
  if (!(error instanceof openAISdkClasses().APIError) || (error.status !== 400 && error.status !== 422)) return false;
  const text = `${error.message} ${JSON.stringify(error.error ?? '')}`.toLowerCase();
  return text.includes('response_format') || text.includes('json_schema') || text.includes('json_object');
}

/** Maps the SDK's errors to core's APICallError, keeping status, retryability and Retry-After. */
export function toAPICallError(error: unknown, url: string, secrets: string[] = [], firstByteTimeoutMs?: number): unknown {
  if (APICallError.isInstance(error) || Prompt2ModelError.isInstance(error)) return error;
  // Our own cancellation (Ctrl-C, or a stage that has what it needs): not an API failure.
  if (error instanceof openAISdkClasses().APIUserAbortError) return new AbortError(undefined, error);
  if (error instanceof openAISdkClasses().APIConnectionError) return connectionError(error, url, firstByteTimeoutMs);
  if (error instanceof openAISdkClasses().APIError) {
    const headers = error.headers as unknown as { get(name: string): string | null } | undefined;
    return new APICallError({
      message: scrub(`${url} answered ${error.status ?? 'an error'}: ${error.message}`, secrets),
      url,
      ...(error.status !== undefined ? { statusCode: error.status } : {}),
      retryAfterMs: parseRetryAfter(headers && typeof headers.get === 'function' ? headers : undefined),
      responseBody: scrub(JSON.stringify(error.error ?? null), secrets),
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    // A truncated or garbled body: the server's fault, and worth another try.
    return new APICallError({ message: `Malformed response from ${url}: ${error.message}`, url, isRetryable: true, cause: error });
  }
  return error;
}

/**
 * A connection failure. Refused connections, unknown hosts and bad certificates fail at once with
 * a sentence that names the URL and the fix; resets and timeouts stay retryable (nothing reached
 * the model, so another try is safe).
 */
function connectionError(error: InstanceType<typeof OpenAI.APIConnectionError>, url: string, firstByteTimeoutMs: number | undefined): APICallError {
  const code = errorCode(error);
  const permanent = permanentConnectionFailure(error)?.reason;
  if (permanent) {
    return new APICallError({
      message: `Could not connect to ${url}: ${permanent} (${code}).`,
      url,
      isRetryable: false,
      cause: error,
      hint: 'Check `baseURL` / OPENAI_BASE_URL (is the server running, is the host name right?). For OpenAI itself, unset OPENAI_BASE_URL.',
    });
  }
  if (error instanceof openAISdkClasses().APIConnectionTimeoutError) {
    const bound = firstByteTimeoutMs === undefined ? '' : ` within ${firstByteTimeoutMs < 1000 ? `${firstByteTimeoutMs} ms` : `${Math.round(firstByteTimeoutMs / 100) / 10} s`}`;
    return new APICallError({
      message: `${url} sent no answer${bound} (not even response headers): the server accepted the request but is not answering.`,
      url,
      isRetryable: true,
      timeout: 'first-byte',
      cause: error,
    });
  }
  return new APICallError({
    message: `Could not reach ${url}: ${error.message}${code ? ` (${code})` : ''}`,
    url,
    isRetryable: true,
    cause: error,
  });
}

/** An answer that is not a chat completion: an HTML page, plain text, or JSON of another API. */
function notOpenAIAnswer(url: string, body: unknown): APICallError {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
  const looksHtml = /^\s*<(!doctype|html|head|body)/i.test(text);
  const what = looksHtml ? 'an HTML page' : typeof body === 'string' ? 'plain text' : 'JSON without "choices"';
  return new APICallError({
    message: `${url} answered with ${what}, not an OpenAI chat completion: the base URL is probably wrong.`,
    url,
    isRetryable: false,
    responseBody: text.slice(0, 500),
    hint: 'Point `baseURL` / OPENAI_BASE_URL at the OpenAI-compatible API root, which usually ends in /v1 (e.g. http://localhost:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama).',
  });
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 6) out = out.split(secret).join('[REDACTED]');
  return out;
}

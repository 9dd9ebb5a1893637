import type OpenAI from 'openai';
import {
  APICallError,
  Prompt2ModelError,
  parseRetryAfter,
  type FinishReason,
  type LanguageModel,
  type LanguageModelRequest,
  type LanguageModelResponse,
  loadSetting,
} from '@prompt2model/core';
import { loadOpenAISdk, openAISdkClasses } from './openai-sdk.js';

export interface OpenAIProviderSettings {
  /** Base URL of the API; default `OPENAI_BASE_URL`, else https://api.openai.com/v1. */
  baseURL?: string;
  /** API key; default `OPENAI_API_KEY`. Local servers (vLLM, Ollama) may need none. */
  apiKey?: string;
  organization?: string;
  /** Extra headers on every request (e.g. Azure's `api-key`). */
  headers?: Record<string, string>;
  /** Custom fetch (proxies, tests). */
  fetch?: typeof globalThis.fetch;
}

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

/** A LanguageModel over an OpenAI-compatible chat-completions endpoint, through the official SDK. */
export class OpenAIChatLanguageModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai';
  readonly modelId: string;
  readonly maxChoicesPerRequest: number;
  readonly contextWindow: number | undefined;
  private structuredMode: (typeof FALLBACK_ORDER)[number];
  private client: OpenAI | undefined;
  private readonly provider_: Required<Pick<OpenAIProviderSettings, 'baseURL'>> & OpenAIProviderSettings;
  private readonly maxTokensParameter: 'max_tokens' | 'max_completion_tokens';

  constructor(modelId: string, provider: OpenAIProviderSettings = {}, settings: OpenAIChatSettings = {}) {
    this.modelId = modelId;
    const baseURL = loadSetting({ settingValue: provider.baseURL, environmentVariableName: 'OPENAI_BASE_URL', defaultValue: 'https://api.openai.com/v1' })!.replace(/\/+$/, '');
    this.provider_ = { ...provider, baseURL };
    this.maxChoicesPerRequest = settings.maxChoicesPerRequest ?? 128;
    this.contextWindow = settings.contextWindow;
    this.structuredMode = settings.structuredOutputs ?? 'json_schema';
    this.maxTokensParameter =
      settings.maxTokensParameter ?? (new URL(baseURL).hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens');
  }

  /** The endpoint this model talks to. */
  get baseURL(): string {
    return this.provider_.baseURL;
  }

  private async getClient(): Promise<OpenAI> {
    if (this.client) return this.client;
    const apiKey = loadSetting({ settingValue: this.provider_.apiKey, environmentVariableName: 'OPENAI_API_KEY' });
    const isOpenAI = new URL(this.provider_.baseURL).hostname === 'api.openai.com';
    if (!apiKey && isOpenAI) {
      throw new Prompt2ModelError({
        message: 'No OpenAI API key: OPENAI_API_KEY is not set.',
        hint: 'export OPENAI_API_KEY=... , or point OPENAI_BASE_URL (--base-url) at an OpenAI-compatible server.',
      });
    }
    const { default: OpenAISDK } = await loadOpenAISdk();
    this.client = new OpenAISDK({
      apiKey: apiKey ?? 'no-key',
      baseURL: this.provider_.baseURL,
      organization: this.provider_.organization ?? null,
      defaultHeaders: this.provider_.headers,
      // Retries and timeouts belong to core's scheduler, the one place that knows the rate budget.
      maxRetries: 0,
      timeout: 10 * 60 * 1000,
      ...(this.provider_.fetch ? { fetch: this.provider_.fetch } : {}),
    });
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
        throw toAPICallError(error, this.provider_.baseURL, [loadSetting({ settingValue: this.provider_.apiKey, environmentVariableName: 'OPENAI_API_KEY' }) ?? '']);
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
      request.abortSignal ? { signal: request.abortSignal } : undefined,
    );
    if (!completion || !Array.isArray(completion.choices)) {
      throw new APICallError({ message: 'The server answered without choices.', url: this.provider_.baseURL, isRetryable: true });
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
export function toAPICallError(error: unknown, url: string, secrets: string[] = []): unknown {
  if (APICallError.isInstance(error) || Prompt2ModelError.isInstance(error)) return error;
  if (error instanceof openAISdkClasses().APIUserAbortError) return error;
  if (error instanceof openAISdkClasses().APIConnectionError) {
    // Connection failures and timeouts: nothing reached the model, so retrying is safe.
    return new APICallError({ message: `Could not reach ${url}: ${error.message}`, url, isRetryable: true, cause: error });
  }
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

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 6) out = out.split(secret).join('[REDACTED]');
  return out;
}

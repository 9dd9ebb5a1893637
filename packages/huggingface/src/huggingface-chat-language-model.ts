import type { InferenceClient } from '@huggingface/inference';
import {
  APICallError,
  redactSecrets,
  type FinishReason,
  type LanguageModel,
  type LanguageModelRequest,
  type LanguageModelResponse,
} from '@prompt2model/core/internal';

/**
 * What `createHuggingFace` resolved once and hands to each model: the token behind a lazy
 * function, the endpoint as given. The model reads no environment variable itself.
 */
export interface HuggingFaceConfig {
  readonly accessToken: () => string | undefined;
  /** A dedicated Inference Endpoint or TGI/vLLM server; without it, Inference Providers routing. */
  readonly endpointUrl?: string | undefined;
  /** Inference Provider to route to; default `auto`. */
  readonly provider?: string | undefined;
  readonly billTo?: string | undefined;
  readonly fetch?: typeof globalThis.fetch | undefined;
}

export interface HuggingFaceChatSettings {
  /** Most choices one request may ask for; TGI and most providers return one. Default 1. */
  maxChoicesPerRequest?: number;
  contextWindow?: number;
}

/** A LanguageModel over `@huggingface/inference`'s chat completion (Inference Providers or a custom endpoint). */
export class HuggingFaceChatLanguageModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'huggingface';
  readonly modelId: string;
  readonly maxChoicesPerRequest: number;
  readonly contextWindow: number | undefined;
  private client: InferenceClient | undefined;
  private readonly settings: HuggingFaceConfig;
  private schemaInPromptOnly = false;

  /** Created by `createHuggingFace(...)(modelId)`, with the provider's resolved settings. */
  constructor(modelId: string, config: HuggingFaceConfig, chat: HuggingFaceChatSettings = {}) {
    this.modelId = modelId;
    this.settings = config;
    this.maxChoicesPerRequest = chat.maxChoicesPerRequest ?? 1;
    this.contextWindow = chat.contextWindow;
  }

  /** The inference client, created (and @huggingface/inference loaded) on the first call. */
  private async getClient(): Promise<InferenceClient> {
    if (!this.client) {
      const { InferenceClient: Client } = await loadInference();
      this.client = new Client(this.settings.accessToken(), {
        // The scheduler owns retries; the client's own 503 retry would hide them from it.
        retry_on_error: false,
        ...(this.settings.fetch ? { fetch: this.settings.fetch } : {}),
        ...(this.settings.billTo ? { billTo: this.settings.billTo } : {}),
      });
    }
    return this.client;
  }

  async doGenerate(request: LanguageModelRequest): Promise<LanguageModelResponse> {
    try {
      return await this.send(request);
    } catch (error) {
      if (request.responseFormat?.type === 'json' && !this.schemaInPromptOnly && isFormatRejected(error)) {
        this.schemaInPromptOnly = true;
        return this.doGenerate(request);
      }
      throw this.toAPICallError(error);
    }
  }

  private async send(request: LanguageModelRequest): Promise<LanguageModelResponse> {
    const messages = request.messages.map((m) => ({ role: m.role, content: m.content }));
    const format = request.responseFormat;
    let responseFormat: Record<string, unknown> | undefined;
    if (format?.type === 'json') {
      if (format.schema && !this.schemaInPromptOnly) {
        responseFormat = { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: format.schema, strict: false } };
      }
      messages.unshift({
        role: 'system',
        content: format.schema ? `Answer with only a JSON object matching this JSON schema:\n${JSON.stringify(format.schema)}` : 'Answer with only a JSON object.',
      });
    }
    const output = await (await this.getClient()).chatCompletion(
      {
        ...(this.settings.endpointUrl ? { endpointUrl: this.settings.endpointUrl } : { provider: (this.settings.provider ?? 'auto') as 'auto' }),
        model: this.modelId,
        messages,
        ...(request.n !== undefined && request.n > 1 ? { n: request.n } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        ...(request.topP !== undefined ? { top_p: request.topP } : {}),
        ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(request.stop ? { stop: request.stop } : {}),
        ...(responseFormat ? { response_format: responseFormat as never } : {}),
      },
      request.abortSignal ? { signal: request.abortSignal } : {},
    );
    return {
      choices: (output.choices ?? []).map((choice) => ({
        text: typeof choice.message?.content === 'string' ? choice.message.content : '',
        finishReason: mapFinishReason(choice.finish_reason),
      })),
      usage: { inputTokens: output.usage?.prompt_tokens ?? 0, outputTokens: output.usage?.completion_tokens ?? 0 },
    };
  }

  private toAPICallError(error: unknown): unknown {
    const token = this.settings.accessToken();
    const secrets = token ? [token] : [];
    const where = this.settings.endpointUrl ?? `Inference Providers (${this.settings.provider ?? 'auto'})`;
    const { InferenceClientError, InferenceClientProviderApiError, InferenceClientHubApiError } = inferenceClasses();
    if (error instanceof InferenceClientProviderApiError || error instanceof InferenceClientHubApiError) {
      const status = error.httpResponse.status;
      return new APICallError({
        message: redactSecrets(`${where} answered ${status}: ${error.message}`, secrets),
        url: this.settings.endpointUrl,
        statusCode: status,
        responseBody: redactSecrets(typeof error.httpResponse.body === 'string' ? error.httpResponse.body : JSON.stringify(error.httpResponse.body), secrets),
        cause: error,
        ...(status === 401 ? { hint: 'Check HF_TOKEN (a Hugging Face token with Inference Providers permission).' } : {}),
      });
    }
    if (error instanceof InferenceClientError || error instanceof TypeError || error instanceof SyntaxError) {
      // Network failures and malformed provider output: worth another try.
      return new APICallError({ message: redactSecrets(`${where}: ${(error as Error).message}`, secrets), isRetryable: true, cause: error });
    }
    return error;
  }
}

// @huggingface/inference loads on first use, so importing this package stays fast.
let inference: typeof import('@huggingface/inference') | undefined;
async function loadInference(): Promise<typeof import('@huggingface/inference')> {
  inference ??= await import('@huggingface/inference');
  return inference;
}
class NotLoaded {}
/** The loaded client's error classes (nothing is an instance of them before it is loaded). */
function inferenceClasses(): Pick<typeof import('@huggingface/inference'), 'InferenceClientError' | 'InferenceClientProviderApiError' | 'InferenceClientHubApiError'> {
  return inference ?? ({ InferenceClientError: NotLoaded, InferenceClientProviderApiError: NotLoaded, InferenceClientHubApiError: NotLoaded } as never);
}

function isFormatRejected(error: unknown): boolean {
  const { InferenceClientProviderApiError } = inferenceClasses();
  if (!(error instanceof InferenceClientProviderApiError)) return false;
  const status = error.httpResponse.status;
  const body = JSON.stringify(error.httpResponse.body).toLowerCase();
  return (status === 400 || status === 422) && (body.includes('response_format') || body.includes('json_schema') || body.includes('grammar'));
}

function mapFinishReason(reason: string | undefined): FinishReason {
  if (reason === 'stop' || reason === 'eos_token' || reason === 'stop_sequence') return 'stop';
  if (reason === 'length') return 'length';
  return 'other';
}

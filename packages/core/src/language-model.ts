import { z } from 'zod';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Ask for plain text, or for JSON (optionally constrained by a JSON schema). */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json'; schema?: Record<string, unknown>; name?: string; description?: string };

export interface LanguageModelRequest {
  messages: ChatMessage[];
  /** Number of independent choices to sample for this prompt (default 1). */
  n?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
  responseFormat?: ResponseFormat;
  abortSignal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'content-filter' | 'error' | 'other';

export interface LanguageModelChoice {
  text: string;
  finishReason: FinishReason;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface LanguageModelResponse {
  choices: LanguageModelChoice[];
  usage: TokenUsage;
  /** Model id the server reports, when it differs from the requested one. */
  modelId?: string;
}

/**
 * A chat model. Implementations are small adapters around one provider's client; everything
 * cross-cutting (rate limits, retries, caching, cost) is done around them by `LanguageModelClient`.
 */
export interface LanguageModel {
  readonly specificationVersion: 'v1';
  /** Provider name, e.g. `openai`, `huggingface`, `mock`. Part of the cache key. */
  readonly provider: string;
  /** Model id, e.g. `gpt-4o-mini`. Part of the cache key and the cost lookup. */
  readonly modelId: string;
  /** Most choices one request can return (1 when the provider ignores `n`). Default: 1. */
  readonly maxChoicesPerRequest?: number;
  /** Context window in tokens, when known; prompt builders keep prompts under it. */
  readonly contextWindow?: number;
  /**
   * Sends one request. Throws `APICallError` (with `isRetryable`, `retryAfterMs`) on failure; it must
   * not retry by itself, the scheduler does.
   */
  doGenerate(request: LanguageModelRequest): Promise<LanguageModelResponse>;
}

/** JSON schema for structured output, from a zod schema (zod 4's own converter). */
export function jsonSchemaFrom(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** A rough token count (4 characters a token) for budgets when no tokenizer is at hand. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateRequestTokens(request: LanguageModelRequest): number {
  let total = 0;
  for (const message of request.messages) total += estimateTokens(message.content) + 4;
  return total + (request.maxTokens ?? 256) * (request.n ?? 1);
}

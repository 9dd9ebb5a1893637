import type { z } from 'zod';
import { builtSchema, loadZod } from './util/lazy-zod.js';

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
  /**
   * Longest wait for the response headers (the first byte) of this attempt; the scheduler sets it.
   * A provider that sees headers bounds that wait and throws an `APICallError` with
   * `timeout: 'first-byte'` past it; the whole answer is bounded by the scheduler's timeout.
   * Not part of the cache key.
   */
  firstByteTimeoutMs?: number;
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
  /**
   * Checks, without paying for tokens where the provider allows (a models list), that the key and
   * endpoint answer. Throws `APICallError` / `Prompt2ModelError` with a hint. Used by preflight.
   */
  checkAccess?(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /**
   * Where the model is served (a base URL), when one provider name covers many endpoints: part of
   * the LLM cache key, so two servers answering for the same model id never share cached answers.
   */
  readonly endpoint?: string;
  /**
   * The model's own token count for a text (its real tokenizer), loaded on first call; estimates
   * of cost use it instead of the 4-characters-a-token rule. Absent when the tokenizer is unknown.
   */
  tokenCounter?(): Promise<(text: string) => number>;
}

/**
 * Known context windows (tokens) by model id prefix, longest prefix wins; used when a model does not
 * report its own. Prompts are checked against it before anything is sent.
 */
export const KNOWN_CONTEXT_WINDOWS: Record<string, number> = {
  'gpt-4o': 128_000,
  'gpt-4.1': 1_047_576,
  'gpt-4-turbo': 128_000,
  'gpt-4': 8_192,
  'gpt-3.5-turbo': 16_385,
  'gpt-5': 400_000,
  o1: 200_000,
  o3: 200_000,
  'o4-mini': 200_000,
};

/** The context window of a model: its own, else the known table's, else undefined. */
export function contextWindowOf(model: Pick<LanguageModel, 'modelId' | 'contextWindow'>): number | undefined {
  if (model.contextWindow !== undefined) return model.contextWindow;
  const id = model.modelId.replace(/^ft:/, '');
  let best: string | undefined;
  for (const key of Object.keys(KNOWN_CONTEXT_WINDOWS)) {
    if (id.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : KNOWN_CONTEXT_WINDOWS[best];
}

/** JSON schema for structured output, from a zod schema (zod 4's own converter). */
export function jsonSchemaFrom(schema: z.ZodType): Record<string, unknown> {
  const json = loadZod().toJSONSchema(builtSchema(schema), { target: 'draft-7' }) as Record<string, unknown>;
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

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Prediction } from '@prompt2model/core/internal';
import type { DemoHttpError } from '../http-response.js';

/**
 * The OpenAI API's response objects as the server sends them: chat completions and their stream
 * chunks, text completions and theirs, `usage`, and errors as `{"error": {message, type, param, code}}`.
 */

export type FinishReason = 'stop' | 'length';

/** Who answered (a cascade's predictions say; a plain student's do not). */
export type AnsweredBy = 'student' | 'teacher';

/** `prediction.answeredBy` when an executor (the cascade) sets it, read as an optional extra field. */
export function answeredByOf(prediction: Prediction | undefined): AnsweredBy | undefined {
  const value = (prediction as (Prediction & { answeredBy?: unknown }) | undefined)?.answeredBy;
  return value === 'student' || value === 'teacher' ? value : undefined;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export interface Choice {
  index: number;
  text: string;
  finishReason: FinishReason;
  answeredBy?: AnsweredBy;
}

/** An id in OpenAI's style (`chatcmpl-…`, `cmpl-…`). */
export function completionId(kind: 'chat' | 'completion'): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('base64url')}`;
}

export interface ResponseHead {
  id: string;
  created: number;
  model: string;
}

const answered = (choice: { answeredBy?: AnsweredBy | undefined }) => (choice.answeredBy ? { answered_by: choice.answeredBy } : {});

export function chatCompletion(head: ResponseHead, choices: Choice[], usage: Usage): unknown {
  return {
    id: head.id,
    object: 'chat.completion',
    created: head.created,
    model: head.model,
    choices: choices.map((choice) => ({
      index: choice.index,
      message: { role: 'assistant', content: choice.text, refusal: null },
      logprobs: null,
      finish_reason: choice.finishReason,
      ...answered(choice),
    })),
    usage,
  };
}

export function textCompletion(head: ResponseHead, choices: Choice[], usage: Usage): unknown {
  return {
    id: head.id,
    object: 'text_completion',
    created: head.created,
    model: head.model,
    choices: choices.map((choice) => ({ index: choice.index, text: choice.text, logprobs: null, finish_reason: choice.finishReason, ...answered(choice) })),
    usage,
  };
}

/** One streamed choice: new text, or (with `finishReason`) its end. */
export interface ChunkChoice {
  index: number;
  text?: string;
  /** The chat stream's first chunk of a choice carries the role. */
  role?: 'assistant';
  finishReason?: FinishReason;
  answeredBy?: AnsweredBy | undefined;
}

export function chunk(kind: 'chat' | 'completion', head: ResponseHead, choices: ChunkChoice[], usage: Usage | null | undefined): unknown {
  const base = kind === 'chat' ? { id: head.id, object: 'chat.completion.chunk' } : { id: head.id, object: 'text_completion' };
  return {
    ...base,
    created: head.created,
    model: head.model,
    choices: choices.map((choice) =>
      kind === 'chat'
        ? {
            index: choice.index,
            delta: { ...(choice.role ? { role: choice.role } : {}), ...(choice.text !== undefined ? { content: choice.text } : {}) },
            logprobs: null,
            finish_reason: choice.finishReason ?? null,
            ...answered(choice),
          }
        : { index: choice.index, text: choice.text ?? '', logprobs: null, finish_reason: choice.finishReason ?? null, ...answered(choice) },
    ),
    // With `stream_options.include_usage`, every chunk has `usage: null` but the last, which has the counts.
    ...(usage !== undefined ? { usage } : {}),
  };
}

/** Writes one server-sent event as OpenAI sends them: `data: <json>` (no event name). */
export function sendEvent(response: ServerResponse, data: unknown): void {
  if (!response.writableEnded) response.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** The OpenAI error object of a refused or failed request. */
export function openAIError(error: DemoHttpError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  // The demo's codes where OpenAI has its own words for the same thing.
  const codes: Record<string, string | null> = {
    unauthorized: 'invalid_api_key',
    busy: 'rate_limit_exceeded',
    body_too_large: 'request_too_large',
    not_found: 'unknown_url',
    internal_error: null,
  };
  const type = error.status === 429 ? 'requests' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message: error.message, type, param: error.param ?? null, code: error.code in codes ? codes[error.code]! : error.code } };
}

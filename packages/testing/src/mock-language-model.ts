import type { LanguageModel, LanguageModelRequest, LanguageModelResponse } from '@prompt2model/core/internal';
import { estimateTokens } from '@prompt2model/core/internal';

/** What a mock answers: text (one choice, repeated `n` times), several texts (one per choice), or a full response. */
export type MockResponse = string | string[] | LanguageModelResponse;

export type MockRespond =
  | MockResponse
  | ((request: LanguageModelRequest, callIndex: number) => MockResponse | Promise<MockResponse>)
  | MockResponse[];

export interface MockLanguageModelOptions {
  modelId?: string;
  provider?: string;
  maxChoicesPerRequest?: number;
  contextWindow?: number;
  /**
   * A value (every call answers it), a function of the request and call index, or an array
   * (call i answers element i; calls past the end repeat the last one). A `string[]` answer gives
   * one call several choices, so per-call choice lists are written `[['a', 'b'], ['c']]`.
   */
  respond: MockRespond;
}

/**
 * A LanguageModel for tests and research code: answers from a value, a function, or one value per
 * call, and records every request in `calls`.
 */
export class MockLanguageModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly maxChoicesPerRequest: number;
  readonly contextWindow: number | undefined;
  readonly calls: LanguageModelRequest[] = [];
  private readonly respond: MockRespond;

  constructor(options: MockLanguageModelOptions) {
    this.provider = options.provider ?? 'mock';
    this.modelId = options.modelId ?? 'mock-model';
    this.maxChoicesPerRequest = options.maxChoicesPerRequest ?? 8;
    this.contextWindow = options.contextWindow;
    this.respond = options.respond;
  }

  async doGenerate(request: LanguageModelRequest): Promise<LanguageModelResponse> {
    const { abortSignal, ...recorded } = request;
    const callIndex = this.calls.length;
    this.calls.push(recorded);
    abortSignal?.throwIfAborted();
    let answer: MockResponse;
    if (typeof this.respond === 'function') answer = await this.respond(request, callIndex);
    else if (Array.isArray(this.respond)) {
      // An array is one answer per call: ['a', 'b'] answers 'a' then 'b'; [['a', 'b']] gives one call two choices.
      answer = this.respond[Math.min(callIndex, this.respond.length - 1)]!;
    } else answer = this.respond;
    return toResponse(answer, request);
  }

  /** Number of calls made so far. */
  get callCount(): number {
    return this.calls.length;
  }
}

function toResponse(answer: MockResponse, request: LanguageModelRequest): LanguageModelResponse {
  if (typeof answer === 'object' && !Array.isArray(answer)) return answer;
  const n = request.n ?? 1;
  const texts = typeof answer === 'string' ? Array.from({ length: n }, () => answer) : answer;
  const inputTokens = request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0);
  return {
    choices: texts.map((text) => ({ text, finishReason: 'stop' as const })),
    usage: { inputTokens, outputTokens: texts.reduce((sum, t) => sum + estimateTokens(t), 0) },
  };
}

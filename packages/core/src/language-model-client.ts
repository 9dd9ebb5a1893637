import type { z } from 'zod';
import type { LLMCallCache } from './cache.js';
import { llmCacheKey } from './cache.js';
import type { CostLedger } from './cost.js';
import { AbortError } from './errors/abort-error.js';
import { ValidationError } from './errors/validation-error.js';
import type { ProgressEmitter } from './events.js';
import {
  estimateRequestTokens,
  jsonSchemaFrom,
  type ChatMessage,
  type LanguageModel,
  type LanguageModelRequest,
  type LanguageModelResponse,
} from './language-model.js';
import type { RequestScheduler } from './scheduler.js';

export interface GenerateOptions {
  /** Which repeated sample of the same request this is (self-consistency); part of the cache key. */
  sampleIndex?: number;
  /** Skip the cache for this call (it is still written). */
  noCacheRead?: boolean;
  signal?: AbortSignal;
  /** Stage name for progress/usage events. */
  stage?: string;
  /**
   * Lower starts first while calls wait for the scheduler (default 0): a caller that uses results
   * in order (the generator's units) passes the position, so what it waits on goes first.
   */
  priority?: number;
}

export interface GenerateResult extends LanguageModelResponse {
  /** True when the response came from the on-disk cache and cost nothing. */
  cached: boolean;
}

export interface LanguageModelClientOptions {
  model: LanguageModel;
  scheduler?: RequestScheduler;
  cache?: LLMCallCache;
  ledger?: CostLedger;
  events?: ProgressEmitter;
  /** After this long without an answer, one "waiting for …" line goes to the progress display. Default 10 s. */
  waitingNoticeMs?: number;
}

/**
 * The one path every LLM call takes: cache lookup, budget check, scheduler (rate limits, retries),
 * the model, then cost accounting and cache write. Stages use this, never `model.doGenerate` directly.
 */
export class LanguageModelClient {
  readonly model: LanguageModel;
  private readonly scheduler: RequestScheduler | undefined;
  private readonly cache: LLMCallCache | undefined;
  private readonly ledger: CostLedger | undefined;
  private readonly events: ProgressEmitter | undefined;
  private readonly inFlight = new Map<string, Promise<LanguageModelResponse>>();
  private readonly waitingNoticeMs: number;
  private lastWaitingNotice = 0;
  /** Answered calls and their output tokens per choice: the estimate for a call cut off in flight. */
  /**
   * What answered calls of each kind (stage, structured or not, token limit) returned: choices,
   * output tokens, and the billed prompt tokens against the estimate. A call cut off in flight is
   * counted from the calls most like it (a 1-token label vote is not priced as a 12-example batch).
   */
  private readonly answered = new Map<string, { choices: number; outputTokens: number; inputTokens: number; estimatedInputTokens: number }>();

  constructor(options: LanguageModelClientOptions) {
    this.model = options.model;
    this.scheduler = options.scheduler;
    this.cache = options.cache;
    this.ledger = options.ledger;
    this.events = options.events;
    this.waitingNoticeMs = options.waitingNoticeMs ?? 10_000;
  }

  get modelId(): string {
    return this.model.modelId;
  }

  /** What requests go to, for messages: the model and, when it has one, its endpoint (never a key). */
  get target(): string {
    return this.model.endpoint ? `${this.model.modelId} at ${this.model.endpoint}` : this.model.modelId;
  }

  /** Most choices one request may ask for with `n`. */
  get maxChoicesPerRequest(): number {
    return Math.max(1, this.model.maxChoicesPerRequest ?? 1);
  }

  async generate(request: LanguageModelRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const key = llmCacheKey({
      provider: this.model.provider,
      ...(this.model.endpoint ? { endpoint: this.model.endpoint } : {}),
      modelId: this.model.modelId,
      request,
      sampleIndex: options.sampleIndex,
    });
    if (this.cache && !options.noCacheRead) {
      const hit = await this.cache.get(key);
      if (hit) {
        this.emitUsage(hit, 0, true, options.stage);
        return { ...hit, cached: true };
      }
    }
    // Two identical calls at once (same sample) share one request.
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.callModel(request, key, options).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return { ...(await pending), cached: false };
  }

  private async callModel(request: LanguageModelRequest, key: string, options: GenerateOptions): Promise<LanguageModelResponse> {
    const estimatedTokens = estimateRequestTokens(request);
    const ledger = this.ledger;
    // The prompt's cost is held while the call is queued and in flight (see CostLedger.reserve).
    const release = ledger
      ? ledger.reserve(
          ledger.costOf(this.model.modelId, { inputTokens: estimatedTokens - (request.maxTokens ?? 256) * (request.n ?? 1), outputTokens: 0 }),
        )
      : () => undefined;
    try {
      return await this.sendAndRecord(request, key, options, estimatedTokens, release);
    } finally {
      release();
    }
  }

  private async sendAndRecord(
    request: LanguageModelRequest,
    key: string,
    options: GenerateOptions,
    estimatedTokens: number,
    release: () => void,
  ): Promise<LanguageModelResponse> {
    // Sent and not yet answered when a cancellation (Ctrl-C) cuts it off: the endpoint usually
    // finishes and bills such a call anyway, so it is counted at an estimate (see countCutOff).
    // The same holds for the attempt that lost to a hedge (the scheduler aborts it).
    let inFlight = 0;
    // Every answer the endpoint sent: with a hedge, the losing attempt may have answered too.
    const answers: LanguageModelResponse[] = [];
    const send = async (signal: AbortSignal | undefined, firstByteTimeoutMs?: number) => {
      inFlight++;
      try {
        const result = await this.model.doGenerate({ ...request, ...(signal ? { abortSignal: signal } : {}), ...(firstByteTimeoutMs ? { firstByteTimeoutMs } : {}) });
        inFlight--;
        answers.push(result);
        return result;
      } catch (error) {
        // Failed with an answer (an HTTP error) or before one was possible: nothing billed.
        if (!signal?.aborted) inFlight--;
        throw error;
      }
    };
    let response: LanguageModelResponse;
    try {
      response = await this.sendThrough(send, request, options, estimatedTokens);
    } catch (error) {
      // Each send cut off counts (a call and its hedge may both have been in flight).
      if (AbortError.isInstance(error) || (options.signal ?? request.abortSignal)?.aborted) for (; inFlight > 0; inFlight--) this.countCutOff(request, estimatedTokens, options.stage);
      throw error;
    }
    // A hedged call: the other attempt was billed too, in full if it answered, else at an estimate.
    for (const other of answers) if (other !== response) this.emitUsage(other, this.ledger ? this.ledger.record(this.model.modelId, other.usage) : 0, false, options.stage);
    for (; inFlight > 0; inFlight--) this.countCutOff(request, estimatedTokens, options.stage);
    const cost = this.ledger ? this.ledger.record(this.model.modelId, response.usage) : 0;
    const seen = this.answered.get(callKind(request, options.stage)) ?? { choices: 0, outputTokens: 0, inputTokens: 0, estimatedInputTokens: 0 };
    seen.choices += Math.max(1, response.choices.length);
    seen.outputTokens += response.usage.outputTokens;
    seen.inputTokens += response.usage.inputTokens;
    seen.estimatedInputTokens += estimatedTokens - (request.maxTokens ?? 256) * (request.n ?? 1);
    this.answered.set(callKind(request, options.stage), seen);
    // The real cost replaces the held estimate at once (not after the cache write).
    release();
    this.emitUsage(response, cost, false, options.stage);
    if (this.cache) await this.cache.set(key, response);
    return response;
  }

  /**
   * Counts a call cut off in flight by a cancellation: its prompt (estimated) and, for its output,
   * the mean output per choice of the calls answered so far (else half of maxTokens), so the
   * reported cost after an interruption does not fall below what the endpoint served.
   */
  private countCutOff(request: LanguageModelRequest, estimatedTokens: number, stage: string | undefined): void {
    if (!this.ledger) return;
    const choices = request.n ?? 1;
    const maxTokens = request.maxTokens ?? 256;
    const seen = this.answered.get(callKind(request, stage));
    const perChoice = seen && seen.choices > 0 ? seen.outputTokens / seen.choices : maxTokens / 2;
    const estimatedInput = Math.max(0, estimatedTokens - maxTokens * choices);
    // The prompt estimate (4 characters a token) scaled by how far off it was on calls like this one.
    const inputScale = seen && seen.estimatedInputTokens > 0 ? seen.inputTokens / seen.estimatedInputTokens : 1;
    const usage = { inputTokens: Math.round(estimatedInput * inputScale), outputTokens: Math.round(perChoice * choices) };
    const cost = this.ledger.record(this.model.modelId, usage);
    this.cutOffCalls++;
    this.events?.emit({
      type: 'usage',
      ...(stage ? { stage } : {}),
      model: this.model.modelId,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costUsd: cost,
      totalCostUsd: this.ledger.totalUsd,
      cached: false,
    });
  }

  /** Calls cut off in flight (by a cancellation, or a hedge that answered first) and counted at an estimate (see countCutOff). */
  cutOffCalls = 0;

  private async sendThrough(
    send: (signal: AbortSignal | undefined, firstByteTimeoutMs?: number) => Promise<LanguageModelResponse>,
    request: LanguageModelRequest,
    options: GenerateOptions,
    estimatedTokens: number,
  ): Promise<LanguageModelResponse> {
    return this.scheduler
      ? await this.scheduler.run(
          async (context) => {
            // Spending may have reached the cap while this call waited its turn: then it is not sent
            // (nor hedged).
            if (context.attempt === 0 || context.hedge) this.ledger?.assertCanSpend(0);
            const waiting = this.waitingNotice(options.stage);
            try {
              const result = await send(context.signal, context.firstByteTimeoutMs);
              context.reportTokens(result.usage.inputTokens + result.usage.outputTokens);
              return result;
            } finally {
              clearTimeout(waiting);
            }
          },
          {
            estimatedTokens,
            signal: options.signal ?? request.abortSignal,
            target: this.target,
            ...(options.priority !== undefined ? { priority: options.priority } : {}),
            // A completion is safe to send twice (the loser is aborted and its cost counted above);
            // calls alike in what they cost are alike in how long they take.
            hedge: { kind: callKind(request, options.stage) },
          },
        )
      : await send(options.signal ?? request.abortSignal);
  }

  /**
   * `count` independent samples of one prompt, batched by `n` where the provider supports it.
   * Sample batches are cached separately, so asking for more samples later pays only for the new ones.
   */
  async sample(request: Omit<LanguageModelRequest, 'n'>, count: number, options: GenerateOptions = {}): Promise<string[]> {
    const perRequest = this.maxChoicesPerRequest;
    const batches: Array<Promise<GenerateResult>> = [];
    for (let batch = 0, remaining = count; remaining > 0; batch++) {
      const n = Math.min(perRequest, remaining);
      remaining -= n;
      batches.push(this.generate({ ...request, n }, { ...options, sampleIndex: (options.sampleIndex ?? 0) * 1000 + batch }));
    }
    const results = await Promise.all(batches);
    return results.flatMap((result) => result.choices.map((choice) => choice.text));
  }

  /**
   * Asks for JSON matching `schema` and validates it. On invalid output the model is shown its
   * answer and the validation error and asked again, up to `maxAttempts`; then a ValidationError.
   * Never returns empty content silently.
   */
  async generateObject<T>(
    request: Omit<LanguageModelRequest, 'responseFormat' | 'n'> & { schemaName?: string },
    schema: z.ZodType<T>,
    options: GenerateOptions & { maxAttempts?: number } = {},
  ): Promise<{ object: T; attempts: number }> {
    const maxAttempts = options.maxAttempts ?? 3;
    const { schemaName, ...base } = request;
    const jsonSchema = jsonSchemaFrom(schema);
    let messages: ChatMessage[] = [...base.messages];
    const problems: string[] = [];
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const result = await this.generate(
        { ...base, messages, responseFormat: { type: 'json', schema: jsonSchema, name: schemaName ?? 'response' } },
        options,
      );
      const text = result.choices[0]?.text ?? '';
      const problem = validateJson(text, schema);
      if (problem.ok) return { object: problem.value, attempts: attempt };
      problems.push(problem.message);
      messages = [
        ...base.messages,
        { role: 'assistant', content: text },
        {
          role: 'user',
          content: `That answer was not valid: ${problem.message}\nReply again with only a JSON object that matches this JSON schema:\n${JSON.stringify(jsonSchema)}`,
        },
      ];
    }
    // One line per distinct problem: the same mistake three times is one issue, not three.
    const distinct = [...new Set(problems)];
    throw new ValidationError({
      subject: `${this.model.modelId} JSON answer`,
      issues: distinct.map((message) => {
        const count = problems.filter((problem) => problem === message).length;
        return { path: count === maxAttempts ? `all ${count} attempts` : `${count} of ${maxAttempts} attempts`, message };
      }),
      hint: 'The model kept returning invalid JSON. Try a stronger `teacher` model, or a prompt with clearly marked examples.',
    });
  }

  /**
   * A server that accepts the connection but does not answer looks like a hang: after
   * `waitingNoticeMs` one line on the progress display says what is being waited for and until when.
   */
  private waitingNotice(stage: string | undefined): ReturnType<typeof setTimeout> | undefined {
    if (!this.events) return undefined;
    const after = this.waitingNoticeMs;
    const timer = setTimeout(() => {
      if (Date.now() - this.lastWaitingNotice < 30_000) return;
      this.lastWaitingNotice = Date.now();
      const bound = this.scheduler?.options.firstByteTimeoutMs;
      this.events?.log(
        'warn',
        `Waiting for ${this.target}: no answer after ${duration(after)}${bound ? ` (a request with no answer after ${duration(bound)} is retried; one that never answered fails)` : ''}.`,
        stage,
      );
    }, after);
    timer.unref?.();
    return timer;
  }

  private emitUsage(response: LanguageModelResponse, costUsd: number, cached: boolean, stage: string | undefined): void {
    this.events?.emit({
      type: 'usage',
      ...(stage ? { stage } : {}),
      model: this.model.modelId,
      inputTokens: cached ? 0 : response.usage.inputTokens,
      outputTokens: cached ? 0 : response.usage.outputTokens,
      costUsd,
      totalCostUsd: this.ledger?.totalUsd ?? 0,
      cached,
    });
  }
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Extracts a JSON value from model text: plain JSON, a fenced ```json block, or the outermost braces. */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('the answer was empty');
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(trimmed);
  const candidates = [trimmed, fenced?.[1]?.trim(), sliceOuter(trimmed, '{', '}'), sliceOuter(trimmed, '[', ']')];
  let lastError: unknown;
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      return JSON.parse(candidate);
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`not valid JSON (${(lastError as Error).message})`);
}

function sliceOuter(text: string, open: string, close: string): string | undefined {
  const start = text.indexOf(open);
  const end = text.lastIndexOf(close);
  return start >= 0 && end > start ? text.slice(start, end + 1) : undefined;
}

function validateJson<T>(text: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; message: string } {
  let value: unknown;
  try {
    value = extractJson(text);
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    message: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
  };
}

/** Calls alike in what they cost: same stage, same kind of answer, same token limit. */
function callKind(request: LanguageModelRequest, stage: string | undefined): string {
  return `${stage ?? ''}|${request.responseFormat ? 'structured' : 'text'}|${request.maxTokens ?? ''}`;
}

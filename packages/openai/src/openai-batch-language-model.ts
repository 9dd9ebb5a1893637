import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  APICallError,
  AbortError,
  LanguageModelClient,
  hashValue,
  sleep,
  writeJsonAtomic,
  type FinishReason,
  type LanguageModel,
  type LanguageModelRequest,
  type LanguageModelResponse,
  type StageContext,
} from '@prompt2model/core/internal';
import { toAPICallError } from './openai-chat-language-model.js';
import { configSecrets, createOpenAIClient, type OpenAIConfig } from './openai-config.js';
import type { OpenAIProvider } from './openai-provider.js';
import { loadOpenAISdk } from './openai-sdk.js';
import type OpenAI from 'openai';

export interface OpenAIBatchOptions {
  /** Model id, e.g. `gpt-4o-mini`. */
  modelId: string;
  /** Folder for `batches.json`, which lets a rerun re-attach to batches already submitted. */
  stateDir: string;
  /** Time between status polls. Default 30 s (batches take minutes to hours). */
  pollIntervalMs?: number;
  /** Requests are collected until none arrives for this long, then sent as one batch. Default 500 ms. */
  collectWindowMs?: number;
  /** Most requests in one batch (the API allows 50,000). */
  maxRequestsPerBatch?: number;
  /** Times a failed line is sent again in a later batch before its call fails. Default 2. */
  maxLineRetries?: number;
  maxChoicesPerRequest?: number;
  contextWindow?: number;
  /** Aborts polling (Ctrl-C); submitted batches keep running on the server and are re-attached on rerun. */
  signal?: AbortSignal;
  /** Injected for tests: a configured SDK client. */
  client?: OpenAI;
  /** Called on batch life-cycle events (submitted, status changes), for progress output. */
  onEvent?: (message: string) => void;
}

interface Pending {
  customId: string;
  body: Record<string, unknown>;
  attempts: number;
  resolve: (response: LanguageModelResponse) => void;
  reject: (error: unknown) => void;
}

interface BatchState {
  batches: Array<{ id: string; customIds: string[]; status: string }>;
}

const OPEN_STATUSES = new Set(['validating', 'in_progress', 'finalizing', 'cancelling']);

/**
 * A LanguageModel over the OpenAI Batch API, for very large generation jobs at half the price:
 * requests are collected into a JSONL file, uploaded (`files.create`, purpose `batch`), submitted
 * (`batches.create`), polled (`batches.retrieve`) and collected (`files.content`). Each call's
 * promise resolves when its batch is done. It reports provider `openai`, so its answers share cache
 * entries with live chat-completion calls: the same outputs whichever mode produced them.
 *
 * Wrap it with `createOpenAIBatchTeacher`, not the scheduler: a batch is queued by the service
 * for hours, far beyond a per-request timeout, and rate limits do not apply to it.
 */
export class OpenAIBatchLanguageModel implements LanguageModel {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai';
  readonly modelId: string;
  readonly maxChoicesPerRequest: number;
  readonly contextWindow: number | undefined;
  private readonly options: OpenAIBatchOptions;
  private client: OpenAI | undefined;
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly occurrences = new Map<string, number>();
  private state: BatchState | undefined;
  private stateWrites: Promise<void> = Promise.resolve();
  private readonly attached = new Map<string, Promise<void>>();
  private readonly waiting = new Map<string, Pending>();
  private readonly config: OpenAIConfig;

  /** Part of the LLM cache key: answers of one server are never served for another. */
  get endpoint(): string {
    return this.config.baseURL;
  }

  /** Created by `createOpenAI(...).batch(options)`, with the provider's resolved settings. */
  constructor(config: OpenAIConfig, options: OpenAIBatchOptions) {
    this.config = config;
    this.options = options;
    this.modelId = options.modelId;
    this.maxChoicesPerRequest = options.maxChoicesPerRequest ?? 128;
    this.contextWindow = options.contextWindow;
  }

  doGenerate(request: LanguageModelRequest): Promise<LanguageModelResponse> {
    const body = this.bodyOf(request);
    // Identical bodies (repeated samples) get distinct ids in call order; the order of identical
    // requests does not matter, so a rerun maps them to the same submitted lines.
    const bodyHash = hashValue(body).slice(0, 24);
    const occurrence = this.occurrences.get(bodyHash) ?? 0;
    this.occurrences.set(bodyHash, occurrence + 1);
    const customId = `p2m-${bodyHash}-${occurrence}`;
    return new Promise((resolve, reject) => {
      this.queue.push({ customId, body, attempts: 0, resolve, reject });
      this.scheduleFlush();
    });
  }

  private bodyOf(request: LanguageModelRequest): Record<string, unknown> {
    const format = request.responseFormat;
    return {
      model: this.modelId,
      messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
      ...(request.n !== undefined && request.n !== 1 ? { n: request.n } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.maxTokens !== undefined ? { max_completion_tokens: request.maxTokens } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.stop ? { stop: request.stop } : {}),
      ...(format?.type === 'json'
        ? {
            response_format: format.schema
              ? { type: 'json_schema', json_schema: { name: (format.name ?? 'response').replace(/[^a-zA-Z0-9_-]/g, '_'), schema: format.schema, strict: false } }
              : { type: 'json_object' },
          }
        : {}),
    };
  }

  private scheduleFlush(): void {
    if (this.queue.length >= (this.options.maxRequestsPerBatch ?? 50_000)) {
      void this.flush();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.collectWindowMs ?? 500);
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.queue.splice(0, this.options.maxRequestsPerBatch ?? 50_000);
    if (items.length === 0) return;
    try {
      const state = await this.loadState();
      const fresh: Pending[] = [];
      for (const item of items) {
        // A line already submitted by an earlier run (or this one): wait for that batch instead.
        const existing = item.attempts === 0 ? state.batches.find((batch) => batch.customIds.includes(item.customId) && batch.status !== 'failed' && batch.status !== 'expired' && batch.status !== 'cancelled') : undefined;
        if (existing) {
          this.waiting.set(item.customId, item);
          this.attach(existing.id);
        } else fresh.push(item);
      }
      if (fresh.length > 0) await this.submit(fresh);
    } catch (error) {
      for (const item of items) {
        if (this.waiting.get(item.customId) === item) this.waiting.delete(item.customId);
        item.reject(toAPICallError(error, this.config.baseURL, configSecrets(this.config)));
      }
    }
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private async submit(items: Pending[]): Promise<void> {
    const client = await this.getClient();
    const { toFile } = await loadOpenAISdk();
    const jsonl = items.map((item) => JSON.stringify({ custom_id: item.customId, method: 'POST', url: '/v1/chat/completions', body: item.body })).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(`${jsonl}\n`, 'utf8'), 'prompt2model-batch.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { source: 'prompt2model' },
    });
    for (const item of items) this.waiting.set(item.customId, item);
    await this.updateState((state) => state.batches.push({ id: batch.id, customIds: items.map((item) => item.customId), status: batch.status }));
    this.options.onEvent?.(`batch ${batch.id} submitted with ${items.length} requests`);
    this.attach(batch.id);
  }

  private attach(batchId: string): void {
    if (this.attached.has(batchId)) return;
    const run = this.poll(batchId)
      .catch((error) => {
        // Polling failed for good (or was cancelled): every call still waiting on it fails.
        const state = this.state?.batches.find((batch) => batch.id === batchId);
        for (const customId of state?.customIds ?? []) {
          const item = this.waiting.get(customId);
          if (item) {
            this.waiting.delete(customId);
            item.reject(toAPICallError(error, this.config.baseURL, configSecrets(this.config)));
          }
        }
      })
      .finally(() => this.attached.delete(batchId));
    this.attached.set(batchId, run);
  }

  private async poll(batchId: string): Promise<void> {
    const client = await this.getClient();
    const interval = this.options.pollIntervalMs ?? 30_000;
    let lastStatus = '';
    for (;;) {
      if (this.options.signal?.aborted) throw new AbortError(undefined, this.options.signal.reason);
      const batch = await client.batches.retrieve(batchId);
      if (batch.status !== lastStatus) {
        lastStatus = batch.status;
        this.options.onEvent?.(`batch ${batchId}: ${batch.status} (${batch.request_counts?.completed ?? 0}/${batch.request_counts?.total ?? 0})`);
        await this.updateState((state) => {
          const entry = state.batches.find((candidate) => candidate.id === batchId);
          if (entry) entry.status = batch.status;
        });
      }
      if (OPEN_STATUSES.has(batch.status)) {
        await sleep(interval, this.options.signal);
        continue;
      }
      // completed, expired (partial results) or cancelled: collect what is there.
      if (batch.output_file_id) await this.collect(client, batch.output_file_id);
      if (batch.error_file_id) await this.collect(client, batch.error_file_id);
      const customIds = this.state?.batches.find((entry) => entry.id === batchId)?.customIds ?? [];
      const reason = batch.status === 'completed' ? 'had no result for this request' : `ended as ${batch.status}${batch.errors?.data?.[0]?.message ? `: ${batch.errors.data[0].message}` : ''}`;
      for (const customId of customIds) {
        const item = this.waiting.get(customId);
        if (item) this.retryOrFail(item, new APICallError({ message: `Batch ${batchId} ${reason}.`, isRetryable: true }));
      }
      return;
    }
  }

  private async collect(client: OpenAI, fileId: string): Promise<void> {
    const text = await (await client.files.content(fileId)).text();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed: BatchOutputLine;
      try {
        parsed = JSON.parse(line) as BatchOutputLine;
      } catch {
        continue;
      }
      const item = this.waiting.get(parsed.custom_id);
      if (!item) continue;
      const status = parsed.response?.status_code;
      const body = parsed.response?.body as ChatCompletionBody | undefined;
      if (status === 200 && body && Array.isArray(body.choices)) {
        this.waiting.delete(parsed.custom_id);
        item.resolve({
          choices: body.choices.map((choice) => ({ text: choice.message?.content ?? '', finishReason: mapFinishReason(choice.finish_reason) })),
          usage: { inputTokens: body.usage?.prompt_tokens ?? 0, outputTokens: body.usage?.completion_tokens ?? 0 },
          ...(body.model && body.model !== this.modelId ? { modelId: body.model } : {}),
        });
        continue;
      }
      const message = parsed.error?.message ?? (body as { error?: { message?: string } } | undefined)?.error?.message ?? 'the request failed';
      this.retryOrFail(item, new APICallError({ message: `Batch request ${parsed.custom_id} failed: ${message}`, ...(status !== undefined ? { statusCode: status } : {}) }));
    }
  }

  /** A failed line goes into a later batch (a new line id) until `maxLineRetries`, then its call fails. */
  private retryOrFail(item: Pending, error: APICallError): void {
    this.waiting.delete(item.customId);
    if (error.isRetryable && item.attempts < (this.options.maxLineRetries ?? 2)) {
      const attempts = item.attempts + 1;
      this.queue.push({ ...item, attempts, customId: `${item.customId.replace(/-r\d+$/, '')}-r${attempts}` });
      this.scheduleFlush();
      return;
    }
    item.reject(error);
  }

  private async getClient(): Promise<OpenAI> {
    if (this.options.client) return this.options.client;
    if (this.client) return this.client;
    // Retries of these few control calls are the SDK's (the scheduler is not in this path).
    this.client = await createOpenAIClient(this.config, { maxRetries: 5 });
    return this.client;
  }

  private async loadState(): Promise<BatchState> {
    if (this.state) return this.state;
    try {
      const parsed = JSON.parse(await readFile(join(this.options.stateDir, 'batches.json'), 'utf8')) as BatchState;
      this.state = Array.isArray(parsed.batches) ? parsed : { batches: [] };
    } catch {
      this.state = { batches: [] };
    }
    return this.state;
  }

  private async updateState(change: (state: BatchState) => void): Promise<void> {
    const state = await this.loadState();
    change(state);
    this.stateWrites = this.stateWrites.catch(() => undefined).then(() => writeJsonAtomic(join(this.options.stateDir, 'batches.json'), state));
    await this.stateWrites;
  }

}

interface BatchOutputLine {
  custom_id: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

interface ChatCompletionBody {
  model?: string;
  choices: Array<{ message?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

function mapFinishReason(reason: string | null | undefined): FinishReason {
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content-filter';
  return 'other';
}

/**
 * A teacher client for Batch API mode: the batch model with the run's cache, cost ledger and
 * events, but without the request scheduler (the service queues batches itself). Pass it to the
 * generator as `teacher`, with a large `lookahead` so whole rounds go into one batch:
 * `createDatasetGenerator({ teacher: createOpenAIBatchTeacher(context, {...}), ...batchGeneratorOptions(n) })`.
 */
export function createOpenAIBatchTeacher(
  context: StageContext,
  options: Omit<OpenAIBatchOptions, 'stateDir' | 'signal'> & { stateDir?: string; provider: Pick<OpenAIProvider, 'batch'> },
): LanguageModelClient {
  const { provider, ...batchOptions } = options;
  const model = provider.batch({
    stateDir: context.store.dir,
    signal: context.signal,
    onEvent: (message) => context.events.log('info', message, 'generate'),
    ...batchOptions,
  });
  return new LanguageModelClient({ model, ...(context.cache ? { cache: context.cache } : {}), ledger: context.ledger, events: context.events });
}

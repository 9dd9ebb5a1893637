import {
  LanguageModelClient,
  Prompt2ModelError,
  type ChatMessage,
  type Demonstration,
  type Executor,
  type GenerationOptions,
  type LanguageModel,
  type Prediction,
  type StageContext,
} from '@prompt2model/core/internal';
import { emptyStats, type ExecutionStats } from './run-stats.js';

export interface LanguageModelExecutorOptions {
  /**
   * The model to run (an OpenAI-compatible endpoint via `createOpenAI`, a fine-tuned `ft:...` id,
   * a Hugging Face endpoint, ...). Default: the run's teacher (`context.teacher`).
   */
  model?: LanguageModel;
  /** System message, e.g. the task instruction. */
  instruction?: string;
  /** Few-shot demonstrations, sent as user/assistant turns before each input. */
  examples?: Demonstration[];
  /** Turns a raw input into the user message. Default: unchanged. */
  formatInput?: (input: string) => string;
  /** Default 0, so reruns are comparable (and cacheable); a call's `temperature` overrides it. */
  temperature?: number;
  /** Most tokens per answer; a call's `maxNewTokens` overrides it. */
  maxTokens?: number;
  /** Progress stage name (default `evaluate`). */
  stage?: string;
  /** Report name (default the model id). */
  name?: string;
}

/**
 * Runs a chat model over inputs through core's LanguageModelClient, so every call shares the
 * run's scheduler (concurrency, RPM/TPM, retries), LLM call cache and cost ledger. Each input is
 * one request; latency is measured per request (queueing included).
 */
export class LanguageModelExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  /** Statistics of the last `execute` call. */
  lastRun: ExecutionStats = emptyStats();
  private resolvedModelId: string | undefined;

  constructor(private readonly options: LanguageModelExecutorOptions = {}) {
    this.name = options.name ?? 'language-model';
  }

  get modelId(): string {
    return this.options.model?.modelId ?? this.resolvedModelId ?? 'teacher';
  }

  private client(context: StageContext): LanguageModelClient {
    if (this.options.model) {
      return new LanguageModelClient({
        model: this.options.model,
        scheduler: context.scheduler,
        cache: context.cache,
        ledger: context.ledger,
        events: context.events,
      });
    }
    if (!context.teacher) {
      throw new Prompt2ModelError({
        message: 'No language model to run: none was given and the run has no teacher.',
        hint: 'Pass a model (e.g. createOpenAI({ baseURL })("gpt-4o-mini")) or configure a `teacher`.',
      });
    }
    return context.teacher;
  }

  messagesFor(input: string): ChatMessage[] {
    const messages: ChatMessage[] = [];
    if (this.options.instruction?.trim()) messages.push({ role: 'system', content: this.options.instruction });
    for (const example of this.options.examples ?? []) {
      messages.push({ role: 'user', content: example.input }, { role: 'assistant', content: example.output });
    }
    messages.push({ role: 'user', content: (this.options.formatInput ?? ((text: string) => text))(input) });
    return messages;
  }

  /** Runs each input as one request; a call's `options` (token limit, sampling, seed, stop strings) go to the model. */
  async execute(inputs: string[], context: StageContext, options: GenerationOptions = {}): Promise<Prediction[]> {
    const started = performance.now();
    const client = this.client(context);
    this.resolvedModelId = client.modelId;
    const stage = this.options.stage ?? 'evaluate';
    const stats = emptyStats();
    let done = 0;
    context.events.emit({ type: 'progress', stage, done, total: inputs.length });
    const maxTokens = options.maxNewTokens ?? this.options.maxTokens;
    const settings = {
      temperature: options.temperature ?? this.options.temperature ?? 0,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(options.topP !== undefined ? { topP: options.topP } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.stop?.length ? { stop: options.stop } : {}),
    };
    const predictions = await Promise.all(
      inputs.map(async (input) => {
        const request = { messages: this.messagesFor(input), ...settings };
        const requestStarted = performance.now();
        const result = await client.generate(request, { stage, signal: context.signal });
        const latencyMs = performance.now() - requestStarted;
        stats.requests++;
        if (result.cached) stats.cachedRequests++;
        stats.inputTokens += result.usage.inputTokens;
        stats.outputTokens += result.usage.outputTokens;
        stats.costUsd += context.ledger.costOf(client.modelId, result.usage);
        done++;
        context.events.emit({ type: 'progress', stage, done, total: inputs.length });
        const choice = result.choices[0];
        return {
          output: (choice?.text ?? '').trim(),
          latencyMs,
          promptTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          finishReason: choice?.finishReason === 'length' ? 'length' : 'stop',
        } satisfies Prediction;
      }),
    );
    this.lastRun = { ...stats, wallMs: performance.now() - started };
    return predictions;
  }
}

import {
  LanguageModelClient,
  Prompt2ModelError,
  type ChatMessage,
  type Demonstration,
  type Executor,
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
  /** Default 0, so reruns are comparable (and cacheable). */
  temperature?: number;
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

  async execute(inputs: string[], context: StageContext): Promise<Prediction[]> {
    const started = performance.now();
    const client = this.client(context);
    this.resolvedModelId = client.modelId;
    const stage = this.options.stage ?? 'evaluate';
    const stats = emptyStats();
    let done = 0;
    context.events.emit({ type: 'progress', stage, done, total: inputs.length });
    const predictions = await Promise.all(
      inputs.map(async (input) => {
        const requestStarted = performance.now();
        const result = await client.generate(
          {
            messages: this.messagesFor(input),
            temperature: this.options.temperature ?? 0,
            ...(this.options.maxTokens !== undefined ? { maxTokens: this.options.maxTokens } : {}),
          },
          { stage, signal: context.signal },
        );
        const latencyMs = performance.now() - requestStarted;
        stats.requests++;
        if (result.cached) stats.cachedRequests++;
        stats.inputTokens += result.usage.inputTokens;
        stats.outputTokens += result.usage.outputTokens;
        stats.costUsd += context.ledger.costOf(client.modelId, result.usage);
        done++;
        context.events.emit({ type: 'progress', stage, done, total: inputs.length });
        return { output: (result.choices[0]?.text ?? '').trim(), latencyMs } satisfies Prediction;
      }),
    );
    this.lastRun = { ...stats, wallMs: performance.now() - started };
    return predictions;
  }
}

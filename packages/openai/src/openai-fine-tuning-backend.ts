import type OpenAI from 'openai';
import {
  hashValue,
  LoadSettingError,
  Prompt2ModelError,
  readJsonl,
  sleep,
  ValidationError,
  ExampleSchema,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
  type TrainingJobHandle,
  type TrainingJobSpec,
  type ValidationIssue,
  toChatRow,
  type DataFormatRules,
  type TrainerBackend,
  type TrainingPricing,
} from '@prompt2model/core/internal';
import { toAPICallError } from './openai-chat-language-model.js';
import { createOpenAIClient, isOpenAIItself, type OpenAIConfig } from './openai-config.js';
import { loadOpenAISdk } from './openai-sdk.js';

/**
 * OpenAI list prices for supervised fine-tuning, USD per 1M training tokens (tokens in the file ×
 * epochs). A model matches the longest key its id starts with. Pass `trainingPrices` to override.
 */
export const OPENAI_TRAINING_PRICES: Record<string, number> = {
  'gpt-4o-mini': 3,
  'gpt-4o': 25,
  'gpt-4.1-nano': 1.5,
  'gpt-4.1-mini': 5,
  'gpt-4.1': 25,
  'gpt-3.5-turbo': 8,
  'davinci-002': 6,
  'babbage-002': 0.4,
};

/** OpenAI's documented limits for fine-tuning files. */
export const OPENAI_DATA_RULES: DataFormatRules = {
  name: 'OpenAI fine-tuning',
  format: 'chat',
  minTrainExamples: 10,
  minValidationExamples: 10,
  maxExampleTokens: 65_536,
  maxFileBytes: 512 * 1024 * 1024,
};

/** Options of the fine-tuning backend itself; the endpoint and key come from its provider. */
export interface OpenAIFineTuningOptions {
  /** A ready client (its own retries should be off: the run's scheduler retries). */
  client?: OpenAI;
  /** How often to poll the job. Default 15 s. */
  pollIntervalMs?: number;
  /** Added to the fine-tuned model's name. */
  suffix?: string;
  /** OpenAI's learning-rate multiplier (the API does not take an absolute rate). Default `auto`. */
  learningRateMultiplier?: number;
  /** USD per 1M training tokens by model prefix, merged over OPENAI_TRAINING_PRICES. */
  trainingPrices?: Record<string, number>;
  /** Cancel the remote job when training is interrupted (Ctrl-C). Default false: the job keeps
   * running and the next run re-attaches to it. */
  cancelOnAbort?: boolean;
}

/**
 * Supervised fine-tuning through the OpenAI API with the `openai` SDK: uploads chat-format JSONL,
 * creates the job (with an idempotency key, so a retried create never starts two jobs), polls its
 * status and events, and re-attaches to the same job id after a restart. The result is a model id
 * (`ft:...`) that any OpenAI-compatible executor can call.
 */
export class OpenAIFineTuningBackend implements TrainerBackend {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'openai';
  readonly dataRules = OPENAI_DATA_RULES;
  private clientInstance: OpenAI | undefined;
  private readonly prices: Record<string, number>;

  /** Created by `createOpenAI(...).fineTuning(options)` or `createOpenAIFineTuningBackend`, with the provider's resolved settings. */
  constructor(
    private readonly config: OpenAIConfig,
    private readonly options: OpenAIFineTuningOptions = {},
  ) {
    this.clientInstance = options.client;
    this.prices = { ...OPENAI_TRAINING_PRICES, ...options.trainingPrices };
  }

  /** The SDK client, created (and the SDK loaded) on the first API call. */
  private async ready(): Promise<OpenAI> {
    // Retries belong to the run's RequestScheduler (Retry-After, backoff, shared budgets).
    this.clientInstance ??= await createOpenAIClient(this.config, { maxRetries: 0 });
    return this.clientInstance;
  }

  /** Managed fine-tuning on OpenAI itself needs a key (the provider's, resolved once); checked before any paid call. */
  async checkReady(): Promise<void> {
    if (this.options.client || this.config.apiKey() || !isOpenAIItself(this.config)) return;
    throw new LoadSettingError({
      message: 'OpenAI fine-tuning needs an API key, and none was given (OPENAI_API_KEY is not set).',
      environmentVariableName: 'OPENAI_API_KEY',
      hint: 'Set OPENAI_API_KEY (or pass apiKey to createOpenAI), or train locally with the local backend.',
    });
  }

  /** The client; every use is inside `call` or after `ready()`, which create it. */
  private get client(): OpenAI {
    return this.clientInstance!;
  }

  /** USD per 1M training tokens for a base model, or undefined when unknown. */
  priceFor(model: string): number | undefined {
    let best: string | undefined;
    for (const key of Object.keys(this.prices)) if (model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
    return best === undefined ? undefined : this.prices[best];
  }

  validateJob(job: TrainingJobSpec): void {
    const issues: ValidationIssue[] = [];
    if (this.priceFor(job.baseModel) === undefined) {
      issues.push({ path: 'baseModel', message: `no training price known for "${job.baseModel}"` });
    }
    if (Math.ceil(job.epochs) > 50) issues.push({ path: 'epochs', message: 'OpenAI accepts at most 50 epochs' });
    if (job.batchSize > 256) issues.push({ path: 'batchSize', message: 'OpenAI accepts a batch size of at most 256' });
    if (issues.length > 0) {
      throw new ValidationError({
        subject: 'training job for OpenAI fine-tuning',
        issues,
        hint: 'Use a fine-tunable model such as gpt-4o-mini-2024-07-18 (or pass its price with trainingPrices).',
      });
    }
  }

  pricing(job: TrainingJobSpec): TrainingPricing {
    return { kind: 'per-token', usdPer1MTokens: this.priceFor(job.baseModel) ?? 0, wholeEpochs: true };
  }

  async submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle> {
    if (resume) {
      const remote = await this.call(context, (signal) => this.client.fineTuning.jobs.retrieve(resume.id, { signal }));
      if (remote.status !== 'failed' && remote.status !== 'cancelled') return resume;
      context.events.log('warn', `Remote job ${resume.id} is ${remote.status}; starting a new one.`, 'train');
    }
    if (job.method === 'lora') {
      context.events.log('debug', 'OpenAI chooses its own fine-tuning method; the LoRA settings of the job are not sent.', 'train');
    }
    const jobHash = hashValue(job);
    const trainingFile = await this.upload(job.data.train, job, context, 'train');
    const validationFile = job.data.validation ? await this.upload(job.data.validation, job, context, 'validation') : undefined;
    const created = await this.call(context, (signal) =>
      this.client.fineTuning.jobs.create(
        {
          model: job.baseModel,
          training_file: trainingFile,
          ...(validationFile ? { validation_file: validationFile } : {}),
          seed: job.seed,
          ...(this.options.suffix ? { suffix: this.options.suffix } : {}),
          method: {
            type: 'supervised',
            supervised: {
              hyperparameters: {
                n_epochs: Math.ceil(job.epochs),
                batch_size: job.batchSize,
                learning_rate_multiplier: this.options.learningRateMultiplier ?? 'auto',
              },
            },
          },
        },
        // Same job, same key: a create retried after a lost response returns the first job.
        { signal, idempotencyKey: `p2m-${jobHash}-${trainingFile}` },
      ),
    );
    return { id: created.id, backend: this.name, remoteJobId: created.id, trainingFile, ...(validationFile ? { validationFile } : {}) };
  }

  async *watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent> {
    const seen = new Set<string>();
    yield { type: 'start', remoteJobId: handle.id };
    let lastStatus: string | undefined;
    try {
      for (;;) {
        const job = await this.call(context, (signal) => this.client.fineTuning.jobs.retrieve(handle.id, { signal }));
        for (const event of await this.newEvents(handle.id, seen, context)) yield* toTrainingEvents(event);
        if (job.status !== lastStatus) {
          lastStatus = job.status;
          yield { type: 'log', level: 'info', message: `OpenAI job ${job.id}: ${job.status}`, status: job.status };
        }
        if (job.status === 'succeeded') {
          yield { type: 'done', fineTunedModel: job.fine_tuned_model, trainedTokens: job.trained_tokens };
          return;
        }
        if (job.status === 'failed' || job.status === 'cancelled') {
          yield {
            type: 'error',
            message: job.status === 'cancelled' ? 'the job was cancelled' : (job.error?.message ?? 'the job failed'),
            ...(job.error?.code ? { code: job.error.code } : {}),
            hint:
              job.error?.code === 'invalid_training_file'
                ? 'Fix the training data named above and rerun.'
                : 'Rerun the same command to start a new job (finished work is not repeated).',
          };
          return;
        }
        await sleep(this.options.pollIntervalMs ?? 15_000, context.signal);
      }
    } catch (error) {
      if (context.signal.aborted && this.options.cancelOnAbort) await this.cancel(handle);
      throw error;
    }
  }

  async cancel(handle: TrainingJobHandle): Promise<void> {
    await this.ready();
    await this.client.fineTuning.jobs.cancel(handle.id).catch((error: unknown) => {
      throw toAPICallError(error, this.client.baseURL, [this.client.apiKey ?? '']);
    });
  }

  async collect(handle: TrainingJobHandle, job: TrainingJobSpec, context: StageContext): Promise<TrainedModel> {
    const remote = await this.call(context, (signal) => this.client.fineTuning.jobs.retrieve(handle.id, { signal }));
    if (remote.status !== 'succeeded' || !remote.fine_tuned_model) {
      throw new Prompt2ModelError({ message: `OpenAI job ${handle.id} is ${remote.status}, not succeeded.`, hint: 'Rerun the same command to keep waiting for it.' });
    }
    const metrics: Record<string, number> = {};
    if (typeof remote.trained_tokens === 'number') {
      metrics.trainedTokens = remote.trained_tokens;
      metrics.costUsd = (remote.trained_tokens * (this.priceFor(job.baseModel) ?? 0)) / 1_000_000;
    }
    return {
      backend: this.name,
      reference: remote.fine_tuned_model,
      kind: 'managed-model',
      baseModel: job.baseModel,
      method: job.method,
      artifacts: {},
      metrics,
      jobId: remote.id,
    };
  }

  /** Events not seen yet, oldest first (the API lists newest first; page back to the last seen one). */
  private async newEvents(jobId: string, seen: Set<string>, context: StageContext) {
    const fresh: OpenAI.FineTuning.Jobs.FineTuningJobEvent[] = [];
    let after: string | undefined;
    for (let page = 0; page < 50; page++) {
      const result = await this.call(context, (signal) =>
        this.client.fineTuning.jobs.listEvents(jobId, { limit: 100, ...(after ? { after } : {}) }, { signal }),
      );
      let reachedSeen = false;
      for (const event of result.data) {
        if (seen.has(event.id)) {
          reachedSeen = true;
          break;
        }
        fresh.push(event);
      }
      const last = result.data.at(-1);
      if (reachedSeen || !result.has_more || !last) break;
      after = last.id;
    }
    for (const event of fresh) seen.add(event.id);
    return fresh.reverse();
  }

  private async upload(path: string, job: TrainingJobSpec, context: StageContext, split: string): Promise<string> {
    let text = '';
    for await (const example of readJsonl(path, { schema: ExampleSchema })) text += `${JSON.stringify(toChatRow(example, job.instruction))}\n`;
    const bytes = Buffer.from(text, 'utf8');
    const file = await this.call(context, async (signal) =>
      this.client.files.create({ file: await (await loadOpenAISdk()).toFile(bytes, `${split}.jsonl`, { type: 'application/jsonl' }), purpose: 'fine-tune' }, { signal }),
    );
    context.events.log('info', `Uploaded ${split} data (${bytes.length} bytes) as ${file.id}.`, 'train');
    return file.id;
  }

  /** Every API call goes through the run's scheduler: rate limits, retries with Retry-After, cancellation. */
  private call<T>(context: StageContext, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return context.scheduler.run(async ({ signal }) => {
      await this.ready();
      try {
        return await request(signal);
      } catch (error) {
        throw toAPICallError(error, this.client.baseURL, [this.client.apiKey ?? '']);
      }
    });
  }
}

/** Maps OpenAI job events to the worker protocol: metrics become steps (and evals), messages logs. */
function* toTrainingEvents(event: OpenAI.FineTuning.Jobs.FineTuningJobEvent): Generator<TrainingEvent> {
  const data = event.data && typeof event.data === 'object' ? (event.data as Record<string, unknown>) : undefined;
  if (event.type === 'metrics' && data && typeof data.step === 'number') {
    yield {
      type: 'step',
      step: data.step,
      ...(typeof data.total_steps === 'number' ? { totalSteps: data.total_steps } : {}),
      ...(typeof data.train_loss === 'number' ? { loss: data.train_loss } : {}),
      ...(typeof data.train_mean_token_accuracy === 'number' ? { accuracy: data.train_mean_token_accuracy } : {}),
    };
    const metrics: Record<string, number> = {};
    for (const key of ['valid_loss', 'valid_mean_token_accuracy', 'full_valid_loss', 'full_valid_mean_token_accuracy']) {
      if (typeof data[key] === 'number') metrics[key] = data[key];
    }
    if (Object.keys(metrics).length > 0) yield { type: 'eval', step: data.step, metrics };
    return;
  }
  yield { type: 'log', message: event.message, level: event.level === 'warn' || event.level === 'error' ? 'warn' : 'info' };
}

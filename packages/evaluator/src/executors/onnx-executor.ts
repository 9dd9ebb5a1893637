import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prompt2ModelError, throwIfAborted, type Executor, type Prediction, type StageContext } from '@prompt2model/core';
import {
  loadTransformers,
  modelLoadError,
  modelLocation,
  pretrainedOptions,
  type ModelLoadOptions,
  type TransformersPipeline,
} from '../transformers-runtime.js';
import { emptyStats, type ExecutionStats } from './run-stats.js';

export type GenerationTask = 'text2text-generation' | 'text-generation';

export interface OnnxExecutorOptions extends ModelLoadOptions {
  /** A local model folder (config.json, tokenizer.json, onnx/*.onnx), or a Hub id with remote models allowed. */
  model: string;
  /** Default: `text2text-generation` when config.json says `is_encoder_decoder`, else `text-generation`. */
  task?: GenerationTask;
  /** Inputs per forward pass (default 8). */
  batchSize?: number;
  /** Most tokens generated per input (default 128). */
  maxNewTokens?: number;
  /** Turns a raw input into the model's prompt (e.g. the training prompt format). Default: unchanged. */
  formatInput?: (input: string) => string;
  /** Extra generation options passed to transformers.js (`num_beams`, `repetition_penalty`, ...). Greedy by default. */
  generation?: Record<string, unknown>;
  /** Name in reports (default: the model path or id). */
  modelId?: string;
  /** Progress stage name (default `evaluate`). */
  stage?: string;
}

/**
 * Runs a local ONNX model through @huggingface/transformers (loaded lazily): batched greedy
 * generation, progress events per batch, cancellation between batches. Remote loading is off
 * unless `allowRemoteModels` is set.
 */
export class OnnxExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'onnx';
  readonly modelId: string;
  /** Statistics of the last `execute` call. */
  lastRun: ExecutionStats = emptyStats();
  private loading: Promise<{ pipe: TransformersPipeline; task: GenerationTask }> | undefined;

  constructor(private readonly options: OnnxExecutorOptions) {
    this.modelId = options.modelId ?? options.model;
  }

  private async detectTask(): Promise<GenerationTask> {
    if (this.options.task) return this.options.task;
    try {
      const config = JSON.parse(await readFile(join(this.options.model, 'config.json'), 'utf8')) as { is_encoder_decoder?: boolean };
      return config.is_encoder_decoder ? 'text2text-generation' : 'text-generation';
    } catch (error) {
      if (this.options.allowRemoteModels) return 'text2text-generation';
      throw modelLoadError(this.options.model, error, this.options);
    }
  }

  private load(): Promise<{ pipe: TransformersPipeline; task: GenerationTask }> {
    this.loading ??= (async () => {
      const task = await this.detectTask();
      const transformers = await loadTransformers();
      try {
        const pipe = await transformers.pipeline(task, modelLocation(this.options.model), pretrainedOptions(this.options));
        return { pipe, task };
      } catch (error) {
        throw modelLoadError(this.options.model, error, this.options);
      }
    })();
    this.loading.catch(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  async execute(inputs: string[], context: StageContext): Promise<Prediction[]> {
    const started = performance.now();
    const stage = this.options.stage ?? 'evaluate';
    const { pipe, task } = await this.load();
    const batchSize = Math.max(1, this.options.batchSize ?? 8);
    const format = this.options.formatInput ?? ((input: string) => input);
    const predictions: Prediction[] = [];
    context.events.emit({ type: 'progress', stage, done: 0, total: inputs.length });
    for (let start = 0; start < inputs.length; start += batchSize) {
      throwIfAborted(context.signal);
      const batch = inputs.slice(start, start + batchSize).map(format);
      const batchStarted = performance.now();
      const outputs = (await pipe(batch, {
        max_new_tokens: this.options.maxNewTokens ?? 128,
        do_sample: false,
        ...(task === 'text-generation' ? { return_full_text: false } : {}),
        ...this.options.generation,
      })) as unknown[];
      const latencyMs = (performance.now() - batchStarted) / batch.length;
      if (!Array.isArray(outputs) || outputs.length !== batch.length) {
        throw new Prompt2ModelError({
          message: `The ${task} pipeline returned ${Array.isArray(outputs) ? outputs.length : 'no'} outputs for ${batch.length} inputs.`,
          hint: 'Check that the model folder holds a generation model for this task.',
        });
      }
      for (const output of outputs) {
        const first = (Array.isArray(output) ? output[0] : output) as { generated_text?: unknown } | undefined;
        const text = typeof first?.generated_text === 'string' ? first.generated_text : '';
        predictions.push({ output: text.trim(), latencyMs });
      }
      context.events.emit({ type: 'progress', stage, done: predictions.length, total: inputs.length });
    }
    this.lastRun = { ...emptyStats(), requests: inputs.length, wallMs: performance.now() - started };
    return predictions;
  }

  /** Releases the ONNX sessions. */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading).pipe.dispose();
  }
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prompt2ModelError, throwIfAborted, type Executor, type Prediction, type StageContext } from '@prompt2model/core/internal';
import {
  type TransformersTensor,
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
 *
 * It calls the model's `generate` itself rather than the pipeline: in a batch, transformers.js keeps
 * generating for rows that already produced the end token until every row is done, and the
 * pipeline's text then carries those extra tokens. Each row here is cut at its first end token, so
 * a batch of 8 answers what batches of 1 answer. Prompts are tokenized with the special tokens the
 * tokenizer adds (as in training and in the Python worker); decoder-only prompts are left-padded.
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
    const endTokens = endTokenIds(pipe);
    for (let start = 0; start < inputs.length; start += batchSize) {
      throwIfAborted(context.signal);
      const batch = inputs.slice(start, start + batchSize).map(format);
      const batchStarted = performance.now();
      const texts = await generateBatch(pipe, task, batch, endTokens, {
        max_new_tokens: this.options.maxNewTokens ?? 128,
        do_sample: false,
        ...this.options.generation,
      });
      const latencyMs = (performance.now() - batchStarted) / batch.length;
      for (const text of texts) predictions.push({ output: text.trim(), latencyMs });
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

/** The end-of-sequence ids: the generation config's, else the model config's. */
function endTokenIds(pipe: TransformersPipeline): Set<number> {
  const value = pipe.model.generation_config?.eos_token_id ?? pipe.model.config.eos_token_id;
  const ids = Array.isArray(value) ? value : typeof value === 'number' ? [value] : [];
  return new Set(ids);
}

/** The generated tokens of each row, without the prompt (decoder-only) and cut at the first end token. */
export function cutAtEnd(rows: Array<Array<number | bigint>>, promptWidth: number, endTokens: Set<number>): number[][] {
  return rows.map((row) => {
    const generated = row.slice(promptWidth).map(Number);
    const end = generated.findIndex((token) => endTokens.has(token));
    return end === -1 ? generated : generated.slice(0, end);
  });
}

async function generateBatch(
  pipe: TransformersPipeline,
  task: GenerationTask,
  batch: string[],
  endTokens: Set<number>,
  options: Record<string, unknown>,
): Promise<string[]> {
  const decoderOnly = task === 'text-generation';
  pipe.tokenizer.padding_side = decoderOnly ? 'left' : 'right';
  const encoded = pipe.tokenizer(batch, { padding: true, truncation: true, add_special_tokens: true });
  const output = await pipe.model.generate({ ...encoded, ...options });
  const sequences = 'sequences' in output ? output.sequences : (output as TransformersTensor);
  const rows = sequences.tolist() as Array<Array<number | bigint>>;
  if (rows.length !== batch.length) {
    throw new Prompt2ModelError({
      message: `The ${task} model returned ${rows.length} sequences for ${batch.length} inputs.`,
      hint: 'Check that the model folder holds a generation model for this task.',
    });
  }
  // Decoder-only output starts with the (left-padded) prompt; seq2seq output with the decoder start token.
  const promptWidth = decoderOnly ? encoded.input_ids.dims[1]! : 1;
  // transformers.js refuses to decode an empty row: an answer that is only the end token is "".
  return cutAtEnd(rows, promptWidth, endTokens).map((tokens) => (tokens.length === 0 ? '' : pipe.tokenizer.batch_decode([tokens], { skip_special_tokens: true })[0]!));
}

import { throwIfAborted, ValidationError, type Executor, type GenerationOptions, type Prediction, type StageContext, type ValidationIssue } from '@prompt2model/core/internal';
import { isLocalFolder, isModelLoadError, loadOnnxRuntime, loadTransformers, modelLoadError, modelLocation, pretrainedOptions, type ModelLoadOptions } from '../transformers-runtime.js';
import { OnnxGenerationModel, openLocalSessions, sessionOptions, type GeneratedRow, type GenerationSettings, type GenerationTask } from './onnx-generation.js';
import { emptyStats, type ExecutionStats } from './run-stats.js';

export type { GenerationTask };

export interface OnnxExecutorOptions extends ModelLoadOptions {
  /** A local model folder (config.json, tokenizer.json, onnx/*.onnx), or a Hub id with remote models allowed. */
  model: string;
  /** Default: `text2text-generation` when config.json says `is_encoder_decoder`, else `text-generation`. */
  task?: GenerationTask;
  /** Inputs per forward pass (default 8). */
  batchSize?: number;
  /**
   * Most prompt tokens in one forward pass, padding included (rows × the batch's longest prompt,
   * default 2048): long inputs run in smaller batches, so a batch of 8 inputs at the model's 512-token
   * limit does not need the activations of 4,096 tokens at once. A single input always runs.
   */
  maxBatchTokens?: number;
  /** Most tokens generated per input (default 128); a call's `maxNewTokens` overrides it. */
  maxNewTokens?: number;
  /** Threads per operator (onnxruntime `intraOpNumThreads`). Default: half the machine's cores, 1 to 4. */
  threads?: number;
  /**
   * Keep onnxruntime's CPU memory arena (default true: the fastest for a batch job). A long-running
   * server passes false: the arena keeps the largest activations any call needed for as long as the
   * model is loaded; without it the memory goes back after each call, for a few percent of speed.
   */
  memoryArena?: boolean;
  /** Turns a raw input into the model's prompt (e.g. the training prompt format). Default: unchanged. */
  formatInput?: (input: string) => string;
  /** Name in reports (default: the model path or id). */
  modelId?: string;
  /** Progress stage name (default `evaluate`). */
  stage?: string;
}

/**
 * Runs a local ONNX model in Node: transformers.js tokenizes, onnxruntime-node opens the sessions of
 * a local folder by path (`openLocalSessions`; a Hub id with `allowRemoteModels` goes through
 * transformers.js, which downloads it), and the generation loop drives them (see `OnnxGenerationModel`). Batched, greedy unless a call asks for
 * sampling (`temperature`, `topP`, `seed`), with stop strings, a token limit per call, streaming
 * (`stream`), and per answer its confidence (exp of the mean token log-probability), token counts
 * and finish reason. Progress events per batch, cancellation between steps. Remote loading is off
 * unless `allowRemoteModels` is set.
 *
 * Each row of a batch is cut at its first end token, so a batch of 8 answers what batches of 1
 * answer. Prompts are tokenized with the special tokens the tokenizer adds (as in training and in
 * the Python worker); decoder-only prompts are left-padded.
 */
export class OnnxExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'onnx';
  readonly modelId: string;
  /** Statistics of the last `execute` call. */
  lastRun: ExecutionStats = emptyStats();
  private loading: Promise<OnnxGenerationModel> | undefined;

  constructor(private readonly options: OnnxExecutorOptions) {
    this.modelId = options.modelId ?? options.model;
  }

  private load(): Promise<OnnxGenerationModel> {
    this.loading ??= (async () => {
      const transformers = await loadTransformers();
      const ort = await loadOnnxRuntime();
      try {
        const location = modelLocation(this.options.model);
        const options = pretrainedOptions(this.options);
        const task = this.options.task ?? ((await transformers.AutoConfig.from_pretrained(location, options)).is_encoder_decoder ? 'text2text-generation' : 'text-generation');
        const tokenizer = await transformers.AutoTokenizer.from_pretrained(location, options);
        const modelClass = task === 'text2text-generation' ? transformers.AutoModelForSeq2SeqLM : transformers.AutoModelForCausalLM;
        const session = sessionOptions(this.options.threads, this.options.memoryArena);
        // A local folder opens on onnxruntime-node by path; a Hub id goes through transformers.js, which downloads it.
        const model = isLocalFolder(location)
          ? await openLocalSessions(ort, location, task, this.options.dtype ?? 'fp32', session)
          : await modelClass.from_pretrained(location, { ...options, session_options: session });
        try {
          return new OnnxGenerationModel(ort, task, model, tokenizer);
        } catch (error) {
          await model.dispose();
          throw error;
        }
      } catch (error) {
        if (isModelLoadError(error)) throw error;
        throw modelLoadError(this.options.model, error, this.options);
      }
    })();
    this.loading.catch(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private settings(options: GenerationOptions | undefined, signal: AbortSignal | undefined): GenerationSettings {
    const temperature = options?.temperature ?? 0;
    const topP = options?.topP ?? 1;
    const maxNewTokens = options?.maxNewTokens ?? this.options.maxNewTokens ?? 128;
    const issues: ValidationIssue[] = [];
    if (!(temperature >= 0)) issues.push({ path: 'temperature', message: `${temperature} is below 0` });
    if (!(topP > 0 && topP <= 1)) issues.push({ path: 'topP', message: `${topP} is not in (0, 1]` });
    if (!(maxNewTokens >= 1)) issues.push({ path: 'maxNewTokens', message: `${maxNewTokens} is below 1` });
    if (issues.length > 0) {
      throw new ValidationError({ subject: 'generation options', issues, hint: 'Use a temperature of 0 (greedy) or more, a topP above 0 and at most 1, and at least 1 new token.' });
    }
    return {
      maxNewTokens: Math.floor(maxNewTokens),
      temperature,
      topP,
      seed: options?.seed,
      stop: (options?.stop ?? []).filter((stop) => stop.length > 0),
      ...(signal ? { signal } : {}),
    };
  }

  async execute(inputs: string[], context: StageContext, options?: GenerationOptions): Promise<Prediction[]> {
    const started = performance.now();
    const stage = this.options.stage ?? 'evaluate';
    const settings = this.settings(options, context.signal);
    const model = await this.load();
    const batchSize = Math.max(1, this.options.batchSize ?? 8);
    const format = this.options.formatInput ?? ((input: string) => input);
    const predictions: Prediction[] = [];
    const stats = emptyStats();
    context.events.emit({ type: 'progress', stage, done: 0, total: inputs.length });
    const prompts = inputs.map(format);
    // Token counts only where a batch could hold more than one input (generate tokenizes again).
    const lengths = batchSize > 1 && prompts.length > 1 ? model.promptLengths(prompts) : [];
    const maxBatchTokens = Math.max(1, this.options.maxBatchTokens ?? 2048);
    for (let start = 0; start < inputs.length; ) {
      throwIfAborted(context.signal);
      // Up to batchSize rows, while the padded batch (rows × its longest prompt) stays within maxBatchTokens.
      let end = start + 1;
      let longest = lengths[start] ?? 0;
      while (end < inputs.length && end - start < batchSize && (end - start + 1) * Math.max(longest, lengths[end]!) <= maxBatchTokens) {
        longest = Math.max(longest, lengths[end]!);
        end++;
      }
      const batch = prompts.slice(start, end);
      start = end;
      const batchStarted = performance.now();
      const rows = await model.generate(batch, settings);
      const latencyMs = (performance.now() - batchStarted) / batch.length;
      for (const row of rows) {
        predictions.push(prediction(row, latencyMs));
        stats.inputTokens += row.promptTokens;
        stats.outputTokens += row.outputTokens;
      }
      context.events.emit({ type: 'progress', stage, done: predictions.length, total: inputs.length });
    }
    this.lastRun = { ...stats, requests: inputs.length, wallMs: performance.now() - started };
    return predictions;
  }

  /** Runs one input, sending each new piece of its answer to `onText`; the pieces join to the answer. */
  async stream(input: string, context: StageContext, onText: (text: string) => void, options?: GenerationOptions): Promise<Prediction> {
    const settings = this.settings(options, context.signal);
    const model = await this.load();
    throwIfAborted(context.signal);
    const started = performance.now();
    const [row] = await model.generate([(this.options.formatInput ?? ((text: string) => text))(input)], { ...settings, onText: (_row, text) => onText(text) });
    return prediction(row!, performance.now() - started);
  }

  /** Releases the ONNX sessions. */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading).dispose();
  }
}

function prediction(row: GeneratedRow, latencyMs: number): Prediction {
  return {
    output: row.output,
    latencyMs,
    confidence: row.confidence,
    promptTokens: row.promptTokens,
    outputTokens: row.outputTokens,
    finishReason: row.finishReason,
  };
}

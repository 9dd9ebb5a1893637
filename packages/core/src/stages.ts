import type { StageContext } from './context.js';
import type { DataFormatRules, TrainingPricing } from './trainer-backend.js';
import type { CascadeCalibration } from './run-folder/files.js';
import type {
  Example,
  EvalReport,
  ModelCandidate,
  PromptSpec,
  TrainedModel,
  TrainingJobSpec,
} from './schemas.js';

/**
 * Stage interfaces. Each is small and versioned (`specificationVersion`), so core can adapt older
 * implementations instead of breaking them. A stage receives the shared `StageContext` (LLM client,
 * scheduler, cache, run store, events, cost ledger, abort signal) and never builds its own.
 */

export interface PromptParser {
  readonly specificationVersion: 'v1';
  readonly name: string;
  parse(prompt: string, context: StageContext): Promise<PromptSpec>;
}

export interface DatasetRetrieverOptions {
  /** Most examples to return. */
  maxExamples?: number;
}

export interface DatasetRetriever {
  readonly specificationVersion: 'v1';
  readonly name: string;
  retrieve(spec: PromptSpec, options: DatasetRetrieverOptions, context: StageContext): Promise<Example[]>;
}

export interface DatasetGeneratorOptions {
  /** How many accepted examples to produce. */
  numExamples: number;
  /** JSON Lines file to stream accepted examples into (resumed when it exists). */
  outputPath: string;
  /** Examples that must not leak into the training data (decontamination). */
  evaluationSet?: Example[];
}

export interface GeneratedDataset {
  path: string;
  count: number;
  /** Counts and reasons (accepted, duplicates, low agreement, ...), tokens and cost. */
  summary: Record<string, unknown>;
}

export interface DatasetGenerator {
  readonly specificationVersion: 'v1';
  readonly name: string;
  generate(spec: PromptSpec, options: DatasetGeneratorOptions, context: StageContext): Promise<GeneratedDataset>;
}

export interface ModelRetrieverOptions {
  topK?: number;
}

export interface ModelRetriever {
  readonly specificationVersion: 'v1';
  readonly name: string;
  retrieve(spec: PromptSpec, options: ModelRetrieverOptions, context: StageContext): Promise<ModelCandidate[]>;
}

/** Trains one job to completion (resuming an earlier attempt when the run folder has one). */
export interface Trainer {
  readonly specificationVersion: 'v1';
  readonly name: string;
  train(job: TrainingJobSpec, context: StageContext): Promise<TrainedModel>;
}

/** Events a training backend reports (the worker's JSON-lines protocol). */
export type TrainingEvent =
  | { type: 'start'; totalSteps?: number; epochs?: number; [key: string]: unknown }
  | { type: 'step'; step: number; totalSteps?: number; loss?: number; learningRate?: number; tokensPerSecond?: number; [key: string]: unknown }
  | { type: 'eval'; step?: number; epoch?: number; metrics: Record<string, number>; [key: string]: unknown }
  | { type: 'checkpoint'; step: number; path: string; [key: string]: unknown }
  | { type: 'log'; message: string; [key: string]: unknown }
  | { type: 'done'; [key: string]: unknown }
  | { type: 'error'; message: string; [key: string]: unknown };

export interface TrainingJobHandle {
  /** Backend-specific id (a process id, a managed job id, a Slurm job id). Stored for resume. */
  id: string;
  backend: string;
  /** Job folder (local/command backends). */
  dir?: string;
  [key: string]: unknown;
}

/** Where a training job runs: a local GPU worker, a managed fine-tuning API, or a remote command. */
export interface TrainerBackend {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Starts the job (or re-attaches to `resume`), returning its handle. */
  submit(job: TrainingJobSpec, context: StageContext, resume?: TrainingJobHandle): Promise<TrainingJobHandle>;
  /** Streams the job's events until it ends. */
  watch(handle: TrainingJobHandle, context: StageContext): AsyncIterable<TrainingEvent>;
  cancel(handle: TrainingJobHandle): Promise<void>;
  /** The trained model, once the job is done. */
  collect(handle: TrainingJobHandle, job: TrainingJobSpec, context: StageContext): Promise<TrainedModel>;
  /** The data format this backend accepts (checked before any upload or launch). */
  readonly dataRules: DataFormatRules;
  /** How this backend charges for `job`, used for the estimate and the `--max-cost` check. */
  pricing(job: TrainingJobSpec): TrainingPricing;
  /**
   * `pricing`, refined by looking at the machine that will train (which device, how fast), when
   * that is cheap; the trainer prefers it to `pricing` for the estimate. `tokensPerExample` is the
   * training data's average.
   */
  measurePricing?(job: TrainingJobSpec, data: { tokensPerExample: number }, context: StageContext): Promise<TrainingPricing>;
  /**
   * The provider's own price for `job`, asked before anything starts (its hardware price list, a
   * dry run): free, launches nothing. The trainer's estimate and `run`'s up-front estimate prefer it
   * to `pricing` (after `measurePricing`, which looks at the device itself). Throws a
   * Prompt2ModelError (with a hint) when the provider cannot be asked.
   */
  quote?(job: TrainingJobSpec, options?: { signal?: AbortSignal }): Promise<TrainingPricing>;
  /** Backend-specific checks of the job (e.g. whole epochs); throws ValidationError. */
  validateJob?(job: TrainingJobSpec): void;
  /**
   * Whether a job could start here now (a Python with the training stack, an API key), checked
   * for free before the run's first paid call; throws a Prompt2ModelError whose hint says the fix.
   */
  checkReady?(options?: { signal?: AbortSignal }): Promise<void>;
}

export interface Prediction {
  output: string;
  latencyMs: number;
  /**
   * How sure a local model is of this answer, in (0, 1]: exp of the mean log-probability of the
   * tokens it generated, the end token included (an empty answer is as sure as its end token).
   * Set by executors that see token probabilities
   * (the ONNX executor); the cascade compares it with its calibrated threshold.
   */
  confidence?: number;
  /** Tokens of the formatted prompt, as the model's tokenizer counts them (for API usage counts). */
  promptTokens?: number;
  /** Tokens generated, without the end token. */
  outputTokens?: number;
  /** Why generation stopped: the end token or a stop string (`stop`), or the token limit (`length`). */
  finishReason?: 'stop' | 'length';
}

/**
 * Per-call generation settings (one API request's `max_tokens`, `temperature`, ...). An executor
 * applies what it supports; the rest keep the executor's own defaults (greedy, its token limit).
 */
export interface GenerationOptions {
  /** Most tokens generated per input. */
  maxNewTokens?: number;
  /** Sampling temperature; absent or 0 is greedy decoding. */
  temperature?: number;
  /** Nucleus sampling mass (with a temperature above 0). */
  topP?: number;
  /** Seed for sampling, so equal requests give equal answers. */
  seed?: number;
  /** The answer ends before the first of these strings (which is left out; `finishReason` 'stop'). */
  stop?: string[];
}

/** What one `Executor.execute` call did, for reports (latency, cost per 1,000 requests). */
export interface ExecutionStats {
  /** Inputs run. */
  requests: number;
  /** Requests answered from the LLM call cache (no new cost, near-zero latency). */
  cachedRequests: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * What the requests cost at list price, cached ones included (what the same traffic would cost
   * in production); 0 for local models, whose compute is not priced.
   */
  costUsd: number;
  /** Wall time of the whole call. */
  wallMs: number;
}

export function emptyExecutionStats(): ExecutionStats {
  return { requests: 0, cachedRequests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, wallMs: 0 };
}

/** An executor whose answers can be streamed token by token. */
export type StreamingExecutor = Executor & Required<Pick<Executor, 'stream'>>;

/** Whether `executor` streams its answers (`stream`). */
export function canStream(executor: Executor): executor is StreamingExecutor {
  return typeof executor.stream === 'function';
}

/** Runs a model over inputs (batched, with progress). */
export interface Executor {
  readonly specificationVersion: 'v1';
  readonly name: string;
  /** Model identity for reports. */
  readonly modelId: string;
  execute(inputs: string[], context: StageContext, options?: GenerationOptions): Promise<Prediction[]>;
  /**
   * Runs one input, sending each new piece of the answer's text to `onText` as it is generated;
   * resolves to the whole prediction. Optional: see `canStream`.
   */
  stream?(input: string, context: StageContext, onText: (text: string) => void, options?: GenerationOptions): Promise<Prediction>;
  /** Stats of the last `execute` call (requests, cached, tokens, cost, wall time), once it has run. */
  readonly lastRun?: ExecutionStats;
  /** Releases what the executor holds (a loaded ONNX session, a worker process); safe to call twice. */
  dispose?(): Promise<void>;
}

export interface EvaluateRequest {
  model: TrainedModel;
  /** JSON Lines test set inside or outside the run folder. */
  testPath: string;
  spec: PromptSpec;
}

export interface CalibrateRequest {
  model: TrainedModel;
  /** JSON Lines of held-out `{input, output}` rows the student was not trained on (the validation split). */
  heldOutPath: string;
  /** The split's name, recorded in the calibration (default `validation`). */
  heldOutSplit?: string;
  spec: PromptSpec;
  /** The chosen threshold keeps this share of the teacher's quality (default 0.99). */
  targetQuality?: number;
}

export interface Evaluator {
  readonly specificationVersion: 'v1';
  readonly name: string;
  evaluate(request: EvaluateRequest, context: StageContext): Promise<EvalReport>;
  /** The teacher (`context.teacher`) over the same test set with the same metrics: the baseline. */
  evaluateTeacher?(request: Omit<EvaluateRequest, 'model'>, context: StageContext): Promise<EvalReport>;
  /**
   * Calibrates the student→teacher cascade: the student and the teacher (`context.teacher`) over
   * held-out rows, the coverage-quality curve of the confidence thresholds and the default one.
   */
  calibrate?(request: CalibrateRequest, context: StageContext): Promise<CascadeCalibration>;
}

export interface Demo {
  /** Where to open it. */
  url: string;
  close(): Promise<void>;
}

export interface DemoCreator {
  readonly specificationVersion: 'v1';
  readonly name: string;
  create(model: TrainedModel, spec: PromptSpec, context: StageContext): Promise<Demo>;
}

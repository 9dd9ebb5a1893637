import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  emptyExecutionStats,
  formatTrainingPrompt,
  Prompt2ModelError,
  throwIfAborted,
  type ExecutionStats,
  type Executor,
  type ExecutorTable,
  type Prediction,
  type StageContext,
  type TrainedModel,
  type TrainingEvent,
} from '@prompt2model/core/internal';
import { PYTHON_INSTALL_HINT, resolveModelReference, workerEnv } from './python-path.js';
import { runWorkerProcess } from './worker-process.js';
import { defaultPython, predictCommandSetting } from './python-environment.js';

export interface WorkerExecutorOptions {
  /** Python interpreter with torch and transformers (and peft for an adapter-only model). Default: $P2M_PYTHON, else the managed environment (`prompt2model setup`), else `python3`. */
  python?: string;
  /**
   * Replaces the whole predict command (argv, default `<python> -m p2m_worker.predict`); the predict
   * arguments (`--model ... --input ... --output ...`) are appended. For a custom worker that speaks
   * the same protocol. Default: $P2M_PREDICT_COMMAND (a JSON array of strings) when set.
   */
  workerCommand?: string[];
  /** Extra environment of the worker process (e.g. `CUDA_VISIBLE_DEVICES`). */
  env?: NodeJS.ProcessEnv;
  /** Prompts per `generate` call (default 8). */
  batchSize?: number;
  /** Most tokens generated per input (default 128). */
  maxNewTokens?: number;
  /** Prompt tokens kept (default 512; decoder-only models keep the end of a longer prompt, as in training). */
  maxSourceLength?: number;
  /** `auto` (default): bf16 on GPUs that support it, fp16 on other CUDA GPUs, fp32 on CPU. */
  precision?: 'auto' | 'bf16' | 'fp16' | 'fp32';
  /** `auto` (default), `cpu`, `cuda`, `cuda:N` or `mps`. */
  device?: string;
  /** Time the worker gets to stop after Ctrl-C before it is killed (default 5 s: it has nothing to save). */
  cancelGraceMs?: number;
  /** Folder for inputs.jsonl and predictions.jsonl, kept afterwards. Default: a temporary folder, removed after each run. */
  workDir?: string;
  /** Progress stage name (default `evaluate`). */
  stage?: string;
}

export interface WorkerExecutorInit extends WorkerExecutorOptions {
  /** A model the local or command backend trained (kind `local-folder`). */
  model: TrainedModel;
  /** The task instruction the model was trained with; inputs become `formatTrainingPrompt(instruction, input)`. */
  instruction?: string;
  /** Replaces the training prompt format (e.g. for a model trained elsewhere). */
  formatInput?: (input: string) => string;
  /** Name in reports (default: the model folder). */
  modelId?: string;
}


interface PredictionRow {
  index: number;
  output: string;
  latencyMs?: number;
}

/**
 * Runs a model the trainer's Python worker saved (PyTorch: the merged copy, a full fine-tune, or
 * base model + LoRA adapter) over inputs, through the worker's predict mode
 * (`python -m p2m_worker.predict`): batched greedy decoding, progress events, Ctrl-C stops the
 * process. Inputs are formatted with the training prompt (`formatTrainingPrompt`), so the model sees
 * at inference what it saw in training.
 *
 * Latency: the worker times each batch's generation and gives every example of the batch its share
 * (batch time / batch size); model loading is not included. A custom worker that reports none gets
 * the whole call's wall time divided by the number of inputs.
 */
export class WorkerExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'python-worker';
  readonly modelId: string;
  /** Statistics of the last `execute` call. */
  lastRun: ExecutionStats = emptyExecutionStats();
  private readonly model: TrainedModel;

  constructor(private readonly options: WorkerExecutorInit) {
    if (options.model.kind !== 'local-folder') {
      throw new Prompt2ModelError({
        message: `WorkerExecutor runs local model folders; "${options.model.reference}" is a ${options.model.kind}.`,
        hint: 'Run managed models with a LanguageModelExecutor (@prompt2model/evaluator).',
      });
    }
    this.model = options.model;
    this.modelId = options.modelId ?? options.model.reference;
  }

  /** The argv that starts the predict worker, before its arguments. */
  workerArgv(): string[] {
    if (this.options.workerCommand) return [...this.options.workerCommand];
    const fromEnv = predictCommandSetting();
    if (fromEnv) return parseCommandVariable(fromEnv, 'P2M_PREDICT_COMMAND');
    return [defaultPython(this.options.python), '-m', 'p2m_worker.predict'];
  }

  /** The predict arguments for this model and these files. */
  predictArgs(inputPath: string, outputPath: string): string[] {
    const { artifacts } = this.model;
    // The worker runs in a temporary folder: relative paths are made absolute first.
    const modelDir = resolveModelReference(artifacts.merged ?? this.model.reference);
    const args = ['--model', modelDir, '--input', inputPath, '--output', outputPath];
    // Without a merged copy the reference may be the adapter alone: its base is the job's.
    if (!artifacts.merged && artifacts.adapter) args.push('--base-model', resolveModelReference(this.model.baseModel));
    if (artifacts.tokenizer) args.push('--tokenizer', resolveModelReference(artifacts.tokenizer));
    args.push('--batch-size', String(Math.max(1, this.options.batchSize ?? 8)));
    args.push('--max-new-tokens', String(Math.max(1, this.options.maxNewTokens ?? 128)));
    args.push('--max-source-length', String(Math.max(1, this.options.maxSourceLength ?? 512)));
    args.push('--precision', this.options.precision ?? 'auto');
    args.push('--device', this.options.device ?? 'auto');
    return args;
  }

  async execute(inputs: string[], context: StageContext): Promise<Prediction[]> {
    throwIfAborted(context.signal);
    const started = performance.now();
    const stage = this.options.stage ?? 'evaluate';
    const total = inputs.length;
    context.events.emit({ type: 'progress', stage, done: 0, total });
    if (total === 0) {
      this.lastRun = { ...emptyExecutionStats(), wallMs: performance.now() - started };
      return [];
    }
    const format = this.options.formatInput ?? ((input: string) => formatTrainingPrompt(this.options.instruction ?? '', input));
    const temporary = this.options.workDir === undefined;
    const dir = this.options.workDir ?? (await mkdtemp(join(tmpdir(), 'p2m-predict-')));
    try {
      await mkdir(dir, { recursive: true });
      const inputPath = join(dir, 'inputs.jsonl');
      const outputPath = join(dir, 'predictions.jsonl');
      await writeFile(inputPath, inputs.map((input) => `${JSON.stringify({ prompt: format(input) })}\n`).join(''));
      await rm(outputPath, { force: true });
      const [command, ...args] = this.workerArgv();
      let finished = false;
      const progress = { done: 0, total };
      const stream = runWorkerProcess({
        command: command!,
        args: [...args, ...this.predictArgs(inputPath, outputPath)],
        cwd: dir,
        env: workerEnv(this.options.env),
        signal: context.signal,
        cancelGraceMs: this.options.cancelGraceMs ?? 5000,
        notFoundHint: PYTHON_INSTALL_HINT,
        label: 'prediction worker',
        cancelledMessage: 'Prediction was cancelled.',
      });
      for await (const event of stream) {
        this.render(event, context, stage, progress);
        if (event.type === 'error') throw this.errorFromEvent(event);
        if (event.type === 'done') {
          finished = true;
          break;
        }
      }
      if (!finished) {
        throw new Prompt2ModelError({ message: `The prediction worker for ${this.modelId} stopped before it was done.`, hint: 'Rerun the evaluation.' });
      }
      const rows = await readPredictions(outputPath, total);
      const wallMs = performance.now() - started;
      this.lastRun = { ...emptyExecutionStats(), requests: total, wallMs };
      return rows.map((row) => ({ output: row.output, latencyMs: typeof row.latencyMs === 'number' ? row.latencyMs : wallMs / total }));
    } finally {
      if (temporary) await rm(dir, { recursive: true, force: true });
    }
  }

  private render(event: TrainingEvent, context: StageContext, stage: string, progress: { done: number; total: number }): void {
    const advance = (done: number) => {
      if (done <= progress.done) return;
      progress.done = Math.min(done, progress.total);
      context.events.emit({ type: 'progress', stage, done: progress.done, total: progress.total });
    };
    switch (event.type) {
      case 'start': {
        const details = ['architecture', 'device', 'precision'].flatMap((key) => (typeof event[key] === 'string' ? [`${key} ${event[key] as string}`] : []));
        context.events.log('debug', `prediction worker started${details.length > 0 ? `: ${details.join(', ')}` : ''}`, stage);
        return;
      }
      case 'step':
        advance(event.step);
        return;
      case 'log':
        context.events.log(event.level === 'warn' || event.level === 'warning' ? 'warn' : event.level === 'info' ? 'info' : 'debug', event.message, stage);
        return;
      case 'done':
        advance(progress.total);
        return;
      default:
        return;
    }
  }

  private errorFromEvent(event: Extract<TrainingEvent, { type: 'error' }>): Prompt2ModelError {
    const hint =
      typeof event.install === 'string' && event.install !== ''
        ? `Install the missing packages: ${event.install} (or set P2M_PYTHON / pass python to an environment that has them).`
        : typeof event.hint === 'string'
          ? event.hint
          : 'Check that the model folder holds a model the trainer saved (merged/, model/ or adapter/).';
    return new Prompt2ModelError({ message: `Prediction with ${this.modelId} failed: ${event.message}`, hint });
  }
}

/**
 * The `python-worker` entry of the executor table (core's `ExecutorTable`): PyTorch formats
 * (merged, full model, LoRA adapter on its base model) run through the predict worker with the
 * task's training prompt.
 */
export function workerExecutors(options: WorkerExecutorOptions = {}): ExecutorTable {
  return {
    'python-worker': ({ model, format, path, location, spec }) => {
      const tokenizer = location.tokenizer ? { tokenizer: location.tokenizer } : {};
      // An adapter names its base model; without one known here the worker reads adapter_config.json.
      const baseModel = location.baseModel ?? model.baseModel;
      const artifacts: TrainedModel['artifacts'] = format === 'adapter' && baseModel ? { adapter: path, ...tokenizer } : { ...tokenizer };
      return new WorkerExecutor({ ...options, model: { ...model, kind: 'local-folder', reference: path, baseModel, artifacts }, instruction: spec.instruction });
    },
  };
}

async function readPredictions(path: string, expected: number): Promise<PredictionRow[]> {
  const text = existsSync(path) ? await readFile(path, 'utf8') : '';
  const rows: Array<PredictionRow | undefined> = new Array<PredictionRow | undefined>(expected);
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const row = value as Partial<PredictionRow> | undefined;
    if (!row || typeof row !== 'object' || !Number.isInteger(row.index) || typeof row.output !== 'string' || row.index! < 0 || row.index! >= expected) {
      throw new Prompt2ModelError({
        message: `${path} line ${lineNumber}: expected {"index": 0..${expected - 1}, "output": "..."}.`,
        hint: 'The prediction worker wrote an unexpected file; check that it speaks the predict protocol.',
      });
    }
    rows[row.index!] = { index: row.index!, output: row.output, ...(typeof row.latencyMs === 'number' ? { latencyMs: row.latencyMs } : {}) };
  }
  let missing = 0;
  for (let index = 0; index < expected; index++) if (rows[index] === undefined) missing++;
  if (missing > 0) {
    throw new Prompt2ModelError({
      message: `The prediction worker reported done but wrote ${expected - missing} of ${expected} predictions (${path}).`,
      hint: 'Rerun the evaluation; if it happens again, run the worker by hand on that file.',
    });
  }
  return rows as PredictionRow[];
}

function parseCommandVariable(value: string, name: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part) => typeof part === 'string')) {
    throw new Prompt2ModelError({
      message: `${name} must be a JSON array of strings.`,
      hint: `e.g. ${name}='["/opt/venv/bin/python", "-m", "p2m_worker.predict"]'`,
    });
  }
  return parsed as string[];
}


import { isAbsolute } from 'node:path';
import {
  ExampleSchema,
  onnxExportOf,
  formatTrainingPrompt,
  Prompt2ModelError,
  readJsonlAll,
  type EvalReport,
  type EvaluateRequest,
  type Evaluator,
  type Example,
  type Executor,
  type LanguageModel,
  type Prediction,
  type PromptSpec,
  type StageContext,
  type TaskType,
  type TrainedModel,
} from '@prompt2model/core/internal';
import { LanguageModelExecutor } from './executors/language-model-executor.js';
import { OnnxExecutor, type OnnxExecutorOptions } from './executors/onnx-executor.js';
import type { ExecutionStats } from './executors/run-stats.js';
import { chooseMetrics, computeMetrics, parseMetricNames, type ComputeMetricsOptions, type MetricName } from './metrics/compute.js';

/**
 * The prompt a trained local model sees: core's `formatTrainingPrompt`, the one the trainer
 * textualises with (kept under this name for existing callers).
 */
export const trainingPrompt: (instruction: string, input: string, taskId?: number) => string = formatTrainingPrompt;

export interface EvaluatorOptions {
  /** Metrics to compute; default `chooseMetrics(spec.taskType)`. */
  metrics?: readonly MetricName[] | string;
  metricOptions?: ComputeMetricsOptions;
  /**
   * Builds the executor for a trained model; returning undefined falls back to the default (ONNX
   * for local folders with an ONNX export, a LanguageModel for managed models). A local folder of
   * PyTorch weights (what the local trainer saves) needs one: `workerExecutorFor()` from
   * `@prompt2model/trainer` runs it with the trainer's Python worker.
   */
  executorFor?: (model: TrainedModel, spec: PromptSpec) => Executor | undefined;
  /** The LanguageModel for a managed model id (e.g. `createOpenAI()` for `ft:gpt-4o-mini:...`). */
  languageModelFor?: (modelId: string) => LanguageModel;
  /** Options for the default ONNX executor. */
  onnx?: Partial<Omit<OnnxExecutorOptions, 'model'>>;
  /** Evaluate on the first N test examples only. */
  maxExamples?: number;
  /** Keep input, prediction and reference of every example in the report (default true). */
  perExample?: boolean;
}

/** Reads a JSON Lines test set of `{input, output}` rows. */
export async function readTestSet(path: string, maxExamples?: number): Promise<Example[]> {
  const rows = await readJsonlAll(path, { schema: ExampleSchema });
  return maxExamples === undefined ? rows : rows.slice(0, maxExamples);
}

/**
 * The executor a trained model needs when nothing else is said: ONNX for a local folder with an
 * ONNX export, a LanguageModel (through `languageModelFor`) for a managed model. A local folder
 * without an ONNX export is an error that says how to pass an executor.
 */
export function defaultExecutorFor(model: TrainedModel, spec: PromptSpec, options: EvaluatorOptions = {}): Executor {
  if (model.kind === 'local-folder') {
    // With remote models allowed, a reference that is not a folder here may be a Hub id of an ONNX model.
    const onnx = onnxExportOf(model) ?? (options.onnx?.allowRemoteModels ? model.reference : undefined);
    if (onnx === undefined) {
      throw new Prompt2ModelError({
        message: `The local model "${model.reference}" has no ONNX export (no artifacts.onnx, no onnx/ folder or .onnx file), and the evaluator runs local folders through ONNX by default.`,
        hint:
          'Pass an executor: createEvaluator({ executorFor: workerExecutorFor() }) with workerExecutorFor from @prompt2model/trainer runs the ' +
          "trainer's PyTorch model with its Python worker (torch + transformers). Or export it: `prompt2model export --model <folder>` (exportTrainedModel from @prompt2model/trainer sets artifacts.onnx).",
      });
    }
    return new OnnxExecutor({
      formatInput: (input) => trainingPrompt(spec.instruction, input),
      ...options.onnx,
      model: onnx,
      modelId: options.onnx?.modelId ?? model.reference,
    });
  }
  if (!options.languageModelFor) {
    throw new Prompt2ModelError({
      message: `The managed model "${model.reference}" needs a LanguageModel to run it.`,
      hint: 'Pass languageModelFor, e.g. createEvaluator({ languageModelFor: (id) => createOpenAI()(id) }).',
    });
  }
  return new LanguageModelExecutor({ model: options.languageModelFor(model.reference), instruction: spec.instruction });
}

export interface ScoreOptions {
  metrics: readonly MetricName[];
  metricOptions?: ComputeMetricsOptions;
  taskType?: TaskType;
  perExample?: boolean;
  /** Statistics of the executor run, for the cost column. */
  stats?: ExecutionStats;
}

/** Scores predictions of one system into an EvalReport. */
export async function scorePredictions(
  examples: readonly Pick<Example, 'input' | 'output'>[],
  predictions: readonly Prediction[],
  modelId: string,
  options: ScoreOptions,
): Promise<EvalReport> {
  const outputs = predictions.map((prediction) => prediction.output);
  const references = examples.map((example) => example.output);
  const metrics = await computeMetrics(outputs, references, options.metrics, options.metricOptions);
  const latency = predictions.length === 0 ? 0 : predictions.reduce((sum, prediction) => sum + prediction.latencyMs, 0) / predictions.length;
  return {
    metrics,
    count: examples.length,
    model: modelId,
    ...(options.taskType ? { taskType: options.taskType } : {}),
    latencyMsPerExample: latency,
    ...(options.stats && options.stats.requests > 0 ? { costPer1000Usd: (options.stats.costUsd / options.stats.requests) * 1000 } : {}),
    createdAt: new Date().toISOString(),
    ...(options.perExample === false
      ? {}
      : { perExample: examples.map((example, index) => ({ input: example.input, prediction: outputs[index]!, reference: example.output })) }),
  };
}

function statsOf(executor: Executor): ExecutionStats | undefined {
  const stats = executor.lastRun;
  return stats && typeof stats.requests === 'number' ? stats : undefined;
}

/**
 * The default Evaluator stage: runs the trained model over the test set (batched, with progress)
 * and scores it with the metrics its task type calls for.
 */
export function createEvaluator(options: EvaluatorOptions = {}): Evaluator {
  const run = async (executor: Executor, request: Omit<EvaluateRequest, 'model'>, context: StageContext, stage: string): Promise<EvalReport> => {
    const testPath = isAbsolute(request.testPath) ? request.testPath : context.store.path(request.testPath);
    const examples = await readTestSet(testPath, options.maxExamples);
    const automatic = options.metrics === undefined;
    const chosen = automatic ? chooseMetrics(request.spec.taskType) : parseMetricNames(options.metrics!);
    // Exact-format tasks (a label, an extracted span) are judged by exact match whatever else is asked.
    const exactFormat = request.spec.taskType === 'classification' || request.spec.taskType === 'extraction';
    const metrics: MetricName[] = exactFormat && !chosen.includes('exact_match') ? ['exact_match', ...chosen] : [...chosen];
    const metricOptions: ComputeMetricsOptions = {
      ...options.metricOptions,
      // BERTScore picked by default must not sink the evaluation when its encoder is not here:
      // one short line, once per run, not a warning per stage.
      ...(automatic && !options.metricOptions?.onBertScoreUnavailable
        ? {
            onBertScoreUnavailable: () => {
              if (bertScoreNoted.has(context)) return;
              bertScoreNoted.add(context);
              context.events.log('warn', 'BERTScore skipped: no local encoder here (`prompt2model eval --bertscore-model DIR` scores it with one).', stage);
            },
          }
        : {}),
    };
    try {
      const predictions = await executor.execute(
        examples.map((example) => example.input),
        context,
      );
      const stats = statsOf(executor);
      return await scorePredictions(examples, predictions, executor.modelId, {
        metrics,
        metricOptions,
        ...(request.spec.taskType ? { taskType: request.spec.taskType } : {}),
        ...(options.perExample !== undefined ? { perExample: options.perExample } : {}),
        ...(stats ? { stats } : {}),
      });
    } finally {
      await (executor as { dispose?: () => Promise<void> }).dispose?.();
    }
  };
  return {
    specificationVersion: 'v1',
    name: 'default-evaluator',
    async evaluate(request: EvaluateRequest, context: StageContext): Promise<EvalReport> {
      const executor = options.executorFor?.(request.model, request.spec) ?? defaultExecutorFor(request.model, request.spec, options);
      return run(executor, request, context, 'evaluate');
    },
    async evaluateTeacher(request: Omit<EvaluateRequest, 'model'>, context: StageContext): Promise<EvalReport> {
      // The run's teacher (scheduler, cache, ledger) with the task instruction as its system message.
      return run(new LanguageModelExecutor({ instruction: request.spec.instruction, stage: 'evaluate-teacher' }), request, context, 'evaluate-teacher');
    },
  };
}

const bertScoreNoted = new WeakSet<StageContext>();

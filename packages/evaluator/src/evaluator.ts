import { isAbsolute, relative } from 'node:path';
import {
  ExampleSchema,
  executorForModel,
  formatTrainingPrompt,
  MODEL_FORMATS,
  readJsonlAll,
  type CalibrateRequest,
  type CascadeCalibration,
  type EvalReport,
  type EvaluateRequest,
  type Evaluator,
  type Example,
  type Executor,
  type ExecutorTable,
  type LanguageModel,
  type ModelFormat,
  type Prediction,
  type StageContext,
  type TaskType,
} from '@prompt2model/core/internal';
import { calibrateCascade } from './cascade/calibration.js';
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
   * Executor table entries over this package's own (`onnx` for ONNX exports, `language-model` for
   * API models): e.g. `workerExecutors()` from `@prompt2model/trainer` for the `python-worker`
   * entry, which runs PyTorch folders. The prompt2model package's `createExecutorTable()` has all.
   */
  executors?: ExecutorTable;
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
 * This package's entries of core's executor table: `onnx` (an ONNX export in Node, inputs in the
 * training prompt format, the chosen weights variant) and `language-model` (an API model through
 * `languageModelFor`, the instruction as its system message).
 */
export function evaluatorExecutors(options: Pick<EvaluatorOptions, 'languageModelFor' | 'onnx'> = {}): ExecutorTable {
  const { languageModelFor } = options;
  return {
    onnx: ({ model, format, path, spec }) =>
      new OnnxExecutor({
        formatInput: (input) => trainingPrompt(spec.instruction, input),
        ...(MODEL_FORMATS[format as ModelFormat]?.dtype && MODEL_FORMATS[format as ModelFormat].dtype !== 'fp32' ? { dtype: MODEL_FORMATS[format as ModelFormat].dtype } : {}),
        ...options.onnx,
        model: path,
        modelId: options.onnx?.modelId ?? model.reference,
      }),
    ...(languageModelFor ? { 'language-model': ({ model, spec }) => new LanguageModelExecutor({ model: languageModelFor(model.reference), instruction: spec.instruction }) } : {}),
  };
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
      : {
          perExample: examples.map((example, index) => {
            // The student's confidence, so the cascade's threshold can be checked on this set too.
            const confidence = predictions[index]?.confidence;
            return { input: example.input, prediction: outputs[index]!, reference: example.output, ...(typeof confidence === 'number' ? { confidence } : {}) };
          }),
        }),
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
  const automatic = options.metrics === undefined;
  const metricsFor = (taskType: TaskType | undefined): MetricName[] => {
    const chosen = automatic ? chooseMetrics(taskType) : parseMetricNames(options.metrics!);
    // Exact-format tasks (a label, an extracted span) are judged by exact match whatever else is asked.
    const exactFormat = taskType === 'classification' || taskType === 'extraction';
    return exactFormat && !chosen.includes('exact_match') ? ['exact_match', ...chosen] : [...chosen];
  };
  const executorFor = (request: Pick<EvaluateRequest, 'model' | 'spec'>) => executorForModel(request.model, request.spec, { ...evaluatorExecutors(options), ...options.executors });
  const run = async (executor: Executor, request: Omit<EvaluateRequest, 'model'>, context: StageContext, stage: string): Promise<EvalReport> => {
    const testPath = isAbsolute(request.testPath) ? request.testPath : context.store.path(request.testPath);
    const examples = await readTestSet(testPath, options.maxExamples);
    const metrics = metricsFor(request.spec.taskType);
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
      return run(executorFor(request), request, context, 'evaluate');
    },
    async evaluateTeacher(request: Omit<EvaluateRequest, 'model'>, context: StageContext): Promise<EvalReport> {
      // The run's teacher (scheduler, cache, ledger) with the task instruction as its system message.
      return run(new LanguageModelExecutor({ instruction: request.spec.instruction, stage: 'evaluate-teacher' }), request, context, 'evaluate-teacher');
    },
    async calibrate(request: CalibrateRequest, context: StageContext): Promise<CascadeCalibration> {
      const path = isAbsolute(request.heldOutPath) ? request.heldOutPath : context.store.path(request.heldOutPath);
      const examples = await readTestSet(path);
      const inside = relative(context.store.dir, path);
      const file = inside.startsWith('..') || isAbsolute(inside) ? path : inside;
      const student = executorFor(request);
      // The run's teacher as in the test-set baseline (its instruction as the system message).
      const teacher = new LanguageModelExecutor({ instruction: request.spec.instruction, stage: 'calibrate' });
      try {
        return await calibrateCascade(
          {
            student,
            teacher,
            examples,
            heldOut: { split: request.heldOutSplit ?? 'validation', file },
            metrics: metricsFor(request.spec.taskType),
            ...(request.spec.taskType ? { taskType: request.spec.taskType } : {}),
            ...(options.metricOptions ? { metricOptions: options.metricOptions } : {}),
            ...(request.targetQuality !== undefined ? { targetQuality: request.targetQuality } : {}),
          },
          context,
        );
      } finally {
        await student.dispose?.();
      }
    },
  };
}

const bertScoreNoted = new WeakSet<StageContext>();

import { executorForModel, type Executor, type ExecutorTable, type LanguageModel, type ModelFormat, type PromptSpec, type TrainedModel } from '@prompt2model/core/internal';
import { evaluatorExecutors, type OnnxExecutorOptions } from '@prompt2model/evaluator/internal';

export interface DemoModelOptions {
  /**
   * Executor table entries over the evaluator's (`onnx`, `language-model`): e.g. `workerExecutors()`
   * from `@prompt2model/trainer` for the `python-worker` entry that runs a PyTorch folder.
   */
  executors?: ExecutorTable;
  /** The LanguageModel of a managed model id (its key stays in this process, never in the page). */
  languageModelFor?: (modelId: string) => LanguageModel;
  /** Options of the default ONNX executor (`maxNewTokens`, `dtype`, `threads`, ...). */
  onnx?: Partial<Omit<OnnxExecutorOptions, 'model'>>;
  /** Which of the model's formats to run (e.g. `onnx-q8` for the int8 weights); default the preferred one it has. */
  format?: ModelFormat;
}

/**
 * The executor the demo runs a trained model with: core's executor table, as the evaluator uses
 * it, so the page answers exactly as the evaluation scored (inputs in the training prompt format
 * for local models, the instruction as system message for managed ones). One input at a time. An
 * ONNX model also streams (its executor's own `stream`): its tokens reach `POST /api/predict/stream`
 * as they come.
 */
export function demoExecutorFor(model: TrainedModel, spec: PromptSpec, options: DemoModelOptions = {}): Executor {
  // A server stays up: onnxruntime's arena would keep the largest activations any input ever needed.
  const onnxOptions = { batchSize: 1, stage: 'demo', memoryArena: false, ...options.onnx };
  const table: ExecutorTable = {
    ...evaluatorExecutors({ ...(options.languageModelFor ? { languageModelFor: options.languageModelFor } : {}), onnx: onnxOptions }),
    ...options.executors,
  };
  return executorForModel(model, spec, table, options.format ? { format: options.format } : {});
}

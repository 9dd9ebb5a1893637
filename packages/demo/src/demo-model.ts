import { onnxExportOf, type Executor, type LanguageModel, type PromptSpec, type TrainedModel } from '@prompt2model/core/internal';
import { defaultExecutorFor, type OnnxExecutorOptions } from '@prompt2model/evaluator/internal';
import { OnnxTokenRelay } from './token-stream.js';

export interface DemoModelOptions {
  /**
   * Builds the executor for a trained model; undefined falls back to the evaluator's default (ONNX
   * for a folder with an ONNX export, `languageModelFor` for a managed model). A PyTorch folder
   * needs one: `workerExecutorFor()` from `@prompt2model/trainer` runs it with the Python worker.
   */
  executorFor?: (model: TrainedModel, spec: PromptSpec) => Executor | undefined;
  /** The LanguageModel of a managed model id (its key stays in this process, never in the page). */
  languageModelFor?: (modelId: string) => LanguageModel;
  /** Options of the default ONNX executor (`maxNewTokens`, `dtype`, `generation`, ...). */
  onnx?: Partial<Omit<OnnxExecutorOptions, 'model'>>;
}

/**
 * The executor the demo runs a trained model with: the same choice the evaluator makes, so the
 * page answers exactly as the evaluation scored (inputs in the training prompt format for local
 * models, the instruction as system message for managed ones). One input at a time. An ONNX
 * model also streams (`canStream`): its tokens reach `POST /api/predict/stream` as they come.
 */
export function demoExecutorFor(model: TrainedModel, spec: PromptSpec, options: DemoModelOptions = {}): Executor {
  const custom = options.executorFor?.(model, spec);
  if (custom) return custom;
  const onnx = model.kind === 'local-folder' ? onnxExportOf(model) : undefined;
  const relay = onnx ? new OnnxTokenRelay(onnx) : undefined;
  const executor = defaultExecutorFor(model, spec, {
    ...(options.languageModelFor ? { languageModelFor: options.languageModelFor } : {}),
    onnx: {
      batchSize: 1,
      stage: 'demo',
      ...options.onnx,
      ...(relay ? { generation: { ...options.onnx?.generation, streamer: relay.streamer } } : {}),
    },
  });
  return relay && executor.name === 'onnx' ? relay.wrap(executor) : executor;
}

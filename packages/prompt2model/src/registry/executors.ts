import { stat } from 'node:fs/promises';
import { onnxExportOf, ValidationError, type Executor, type TrainedModel } from '@prompt2model/core/internal';
import { LanguageModelExecutor, OnnxExecutor, trainingPrompt } from '@prompt2model/evaluator/internal';
import { WorkerExecutor, type WorkerExecutorOptions } from '@prompt2model/trainer';
import { createModelRegistry, type ModelProviderSettings } from './model-providers.js';

export interface ExecutorSettings {
  /** Task instruction: local models get the training prompt format, API models a system message. */
  instruction?: string;
  providers?: ModelProviderSettings;
  /** Let local-model loading download a Hub id (ONNX runtime). */
  allowRemoteModels?: boolean;
  /** Python predict worker for PyTorch folders. */
  predict?: WorkerExecutorOptions;
  batchSize?: number;
  maxNewTokens?: number;
}

/**
 * The executor for a model name: `teacher` (the run's teacher), an API model (`openai:<id>`,
 * `openai:ft:...`, `hf:<id>`, a bare id), or a local folder (an ONNX export runs in Node, a PyTorch
 * folder through the Python predict worker).
 */
export async function createExecutor(name: string, settings: ExecutorSettings = {}): Promise<Executor> {
  const instruction = settings.instruction;
  if (name === 'teacher') return new LanguageModelExecutor(instruction ? { instruction } : {});
  const registry = createModelRegistry(settings.providers);
  const parsed = registry.parse(name);
  const isFolder = parsed.kind === 'local-folder' && (await stat(parsed.path).then((info) => info.isDirectory(), () => false));
  // An explicit provider prefix is always an API model; a bare id is one too, unless remote local
  // models are allowed, where it is a Hub id for the ONNX runtime (as before the registry).
  const explicitProvider = parsed.kind === 'provider' && name.startsWith(`${parsed.provider}:`);
  if (parsed.kind === 'provider' && (explicitProvider || !settings.allowRemoteModels)) {
    return new LanguageModelExecutor({ model: registry.languageModel(name), ...(instruction ? { instruction } : {}) });
  }
  if (parsed.kind === 'local-folder' && !isFolder) {
    throw new ValidationError({
      subject: 'model name',
      issues: [{ path: 'model', message: `"${name}" is not a folder` }],
      hint: 'Pass a local model folder (an ONNX export or a trained PyTorch folder), openai:<model-id> (also ft:... ids), hf:<model-id>, or teacher.',
    });
  }
  const folder = parsed.kind === 'local-folder' ? parsed.path : name;
  const local: TrainedModel = { backend: 'local', reference: folder, kind: 'local-folder', baseModel: '', method: 'full', artifacts: {}, metrics: {} };
  if (isFolder && !onnxExportOf(local)) {
    return new WorkerExecutor({
      ...settings.predict,
      model: local,
      instruction: instruction ?? '',
      ...(settings.batchSize ? { batchSize: settings.batchSize } : {}),
      ...(settings.maxNewTokens ? { maxNewTokens: settings.maxNewTokens } : {}),
    });
  }
  // An ONNX folder, or (with remote models allowed) a Hub id loaded by the ONNX runtime.
  return new OnnxExecutor({
    model: folder,
    allowRemoteModels: settings.allowRemoteModels ?? false,
    ...(instruction ? { formatInput: (input: string) => trainingPrompt(instruction, input) } : {}),
    ...(settings.batchSize ? { batchSize: settings.batchSize } : {}),
    ...(settings.maxNewTokens ? { maxNewTokens: settings.maxNewTokens } : {}),
  });
}

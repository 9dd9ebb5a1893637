import { stat } from 'node:fs/promises';
import { executorForModel, readTrainedModelSync, ValidationError, type Executor, type ExecutorTable, type LanguageModel, type TrainedModel } from '@prompt2model/core/internal';
import { evaluatorExecutors, LanguageModelExecutor, type OnnxExecutorOptions } from '@prompt2model/evaluator/internal';
import { workerExecutors, type WorkerExecutorOptions } from '@prompt2model/trainer/internal';
import { createModelRegistry, type ModelProviderSettings } from './model-providers.js';

export interface ExecutorTableSettings {
  /** API models by name (`openai:...`, `hf:...`): default the model registry over `providers`. */
  languageModelFor?: (modelId: string) => LanguageModel;
  providers?: ModelProviderSettings;
  /** Options of the ONNX executor (batch size, tokens, dtype, remote loading). */
  onnx?: Partial<Omit<OnnxExecutorOptions, 'model'>>;
  /** The Python predict worker for PyTorch folders. */
  predict?: WorkerExecutorOptions;
}

/**
 * The full executor table (core's `ExecutorTable`): `onnx` and `language-model` from the
 * evaluator, `python-worker` from the trainer. Evaluation, the demo, `eval --model` and
 * `createPipeline` all run models through it.
 */
export function createExecutorTable(settings: ExecutorTableSettings = {}): ExecutorTable {
  const languageModelFor = settings.languageModelFor ?? ((id: string) => createModelRegistry(settings.providers).languageModel(id));
  return {
    ...evaluatorExecutors({ languageModelFor, ...(settings.onnx ? { onnx: settings.onnx } : {}) }),
    ...workerExecutors(settings.predict),
  };
}

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
 * `openai:ft:...`, `hf:<id>`, a bare id), or a folder (a run folder, a training job folder or a
 * model folder: core's `locateModel` finds its formats and the executor table runs the preferred one).
 */
export async function createExecutor(name: string, settings: ExecutorSettings = {}): Promise<Executor> {
  const instruction = settings.instruction ?? '';
  if (name === 'teacher') return new LanguageModelExecutor(settings.instruction ? { instruction } : {});
  const registry = createModelRegistry(settings.providers);
  const parsed = registry.parse(name);
  const isFolder = parsed.kind === 'local-folder' && (await stat(parsed.path).then((info) => info.isDirectory(), () => false));
  const local = { ...(settings.batchSize ? { batchSize: settings.batchSize } : {}), ...(settings.maxNewTokens ? { maxNewTokens: settings.maxNewTokens } : {}) };
  const table = createExecutorTable({
    languageModelFor: (id) => registry.languageModel(id),
    // Without an instruction an ONNX model gets the input as it is (a model exported from elsewhere).
    onnx: { allowRemoteModels: settings.allowRemoteModels ?? false, ...(settings.instruction ? {} : { formatInput: (input: string) => input }), ...local },
    predict: { ...settings.predict, ...local },
  });
  const spec = { instruction };
  // An explicit provider prefix is always an API model; a bare id is one too, unless remote local
  // models are allowed, where it is a Hub id for the ONNX runtime.
  const explicitProvider = parsed.kind === 'provider' && name.startsWith(`${parsed.provider}:`);
  if (parsed.kind === 'provider' && (explicitProvider || !settings.allowRemoteModels)) {
    return table['language-model']!({ model: managedModel(name, parsed.provider), format: 'api', path: name, location: { kind: 'managed', folder: name, formats: {} }, spec });
  }
  if (!isFolder) {
    if (parsed.kind === 'local-folder') {
      throw new ValidationError({
        subject: 'model name',
        issues: [{ path: 'model', message: `"${name}" is not a folder` }],
        hint: 'Pass a run folder, a model folder (an ONNX export or a trained PyTorch folder), openai:<model-id> (also ft:... ids), hf:<model-id>, or teacher.',
      });
    }
    // A Hub id of an ONNX model, loaded by the ONNX runtime (remote models allowed).
    return table.onnx!({ model: localModel(name), format: 'onnx-fp32', path: name, location: { kind: 'model', folder: name, formats: {} }, spec });
  }
  return executorForModel(readTrainedModelSync(parsed.path) ?? localModel(parsed.path), spec, table);
}

function localModel(reference: string): TrainedModel {
  return { backend: 'local', reference, kind: 'local-folder', baseModel: '', method: 'full', artifacts: {}, metrics: {} };
}

function managedModel(modelId: string, provider: string): TrainedModel {
  return { backend: provider, reference: modelId, kind: 'managed-model', baseModel: '', method: 'full', artifacts: {}, metrics: {} };
}

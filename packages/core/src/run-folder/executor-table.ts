import { NoExecutorError } from '../errors/no-executor-error.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { Prompt2ModelError } from '../errors/prompt2model-error.js';
import type { PromptSpec, TrainedModel } from '../schemas.js';
import type { Executor } from '../stages.js';
import { locateTrainedModel, MODEL_FORMATS, MODEL_FORMAT_PREFERENCE, MODEL_RUNTIMES, preferredFormat, type ModelFormat, type ModelLocation, type ModelRuntime } from './locate-model.js';

/** What an executor factory is asked to run. */
export interface ExecutorRequest {
  /** The trained model (paths absolute). */
  model: TrainedModel;
  /** The format chosen, or `api` for a model behind a provider's API. */
  format: ModelFormat | 'api';
  /** The folder of that format (the model id for `api`). */
  path: string;
  /** Everything `locateModel` found (tokenizer folder, base model of an adapter, other formats). */
  location: ModelLocation;
  /** The task: local models get the training prompt of its instruction, API models a system message. */
  spec: Pick<PromptSpec, 'instruction'>;
}

export type ExecutorFactory = (request: ExecutorRequest) => Executor;

/**
 * The one table that says what runs a model: a factory per runtime. Packages fill their own
 * entries (the evaluator `onnx` and `language-model`, the trainer `python-worker`); the umbrella
 * puts them together, and every caller (evaluation, the demo, `eval --model`) runs models through
 * `executorForModel` with it.
 */
export type ExecutorTable = Partial<Record<ModelRuntime, ExecutorFactory>>;

export interface ExecutorChoiceOptions {
  /** Run this format (it must exist); default the first of `MODEL_FORMAT_PREFERENCE` that the table can run. */
  format?: ModelFormat;
}

/**
 * The executor for a trained model: `locateModel` finds its formats, the preferred one whose
 * runtime the table has is chosen, and that runtime's factory builds the executor. An API model
 * runs through `language-model`. Errors say what was found and which package runs it.
 */
export function executorForModel(model: TrainedModel, spec: Pick<PromptSpec, 'instruction'>, table: ExecutorTable, options: ExecutorChoiceOptions = {}): Executor {
  const location = locateTrainedModel(model);
  if (location.kind === 'managed') {
    const factory = table['language-model'];
    if (!factory) throw missingRuntime('language-model', `the API model "${model.reference}"`);
    return factory({ model, format: 'api', path: model.reference, location, spec });
  }
  const found = MODEL_FORMAT_PREFERENCE.filter((format) => location.formats[format] !== undefined);
  if (options.format && location.formats[options.format] === undefined) {
    throw new ModelNotFoundError({
      message: `The model ${model.reference} has no ${options.format} (${MODEL_FORMATS[options.format].description}); it has ${found.join(', ') || 'no model files'}.`,
      hint: options.format.startsWith('onnx') ? 'Export it first (prompt2model export).' : 'Choose one of the formats it has.',
    });
  }
  const runnable = options.format ? [options.format] : found.filter((format) => table[MODEL_FORMATS[format].runtime] !== undefined);
  const chosen = preferredFormat(location, runnable);
  if (!chosen) {
    if (found.length === 0) {
      throw new ModelNotFoundError({
        message: `No model in ${model.reference}: no ONNX export (onnx/*.onnx), no PyTorch model (config.json + weights), no LoRA adapter (adapter_config.json).`,
        hint: 'Pass the run folder, the training job folder or the model folder the trainer wrote.',
      });
    }
    throw missingRuntime(MODEL_FORMATS[found[0]!].runtime, `${model.reference} (${found.join(', ')})`);
  }
  const runtime = MODEL_FORMATS[chosen.format].runtime;
  const factory = table[runtime];
  if (!factory) throw missingRuntime(runtime, `${model.reference} (${chosen.format})`);
  return factory({ model, format: chosen.format, path: chosen.path, location, spec });
}

function missingRuntime(runtime: ModelRuntime, what: string): Prompt2ModelError {
  const { executor, package: name } = MODEL_RUNTIMES[runtime];
  const extra = runtime === 'python-worker' ? ' Or export the model to ONNX (prompt2model export) to run it in Node.' : '';
  return new NoExecutorError({
    message: `Nothing here runs ${what}: the executor table has no \`${runtime}\` entry.`,
    hint: `Add one: { '${runtime}': (request) => new ${executor}(...) } from ${name} (the prompt2model package fills every entry).${extra}`,
  });
}

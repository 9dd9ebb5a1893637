import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MissingPackageError, Prompt2ModelError } from '@prompt2model/core/internal';
import { importOptionalPackage } from '@prompt2model/core/internal';

/**
 * The slice of @huggingface/transformers this package uses, typed locally: the library loads
 * lazily (`await import()`), so importing the evaluator for chrF or exact match never pulls in
 * onnxruntime.
 */
export interface TransformersTensor {
  dims: number[];
  data: ArrayLike<number | bigint>;
  tolist(): unknown;
}

export interface TransformersTokenizer {
  (texts: string | string[], options?: { padding?: boolean; truncation?: boolean; add_special_tokens?: boolean; max_length?: number }): {
    input_ids: TransformersTensor;
    attention_mask: TransformersTensor;
    [name: string]: TransformersTensor;
  };
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  batch_decode(batch: Array<Array<number | bigint>>, options?: { skip_special_tokens?: boolean }): string[];
  padding_side: 'left' | 'right';
}

export interface TransformersModel {
  (inputs: Record<string, TransformersTensor>): Promise<Record<string, TransformersTensor>>;
  dispose(): Promise<unknown>;
  /** The onnxruntime sessions, by transformers.js's name (`model`, `decoder_model_merged`). */
  sessions: Record<string, unknown>;
  config: Record<string, unknown>;
  generation_config?: Record<string, unknown> | null;
}

/** What the generation loop needs of a loaded model: its configs and its onnxruntime sessions by transformers.js's names. */
export interface OnnxSessionSet {
  sessions: Record<string, unknown>;
  config: Record<string, unknown>;
  generation_config?: Record<string, unknown> | null;
  dispose(): Promise<unknown>;
}

type ModelClass = { from_pretrained(model: string, options?: Record<string, unknown>): Promise<TransformersModel> };

export interface TransformersModule {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string; cacheDir: string | null };
  AutoTokenizer: { from_pretrained(model: string, options?: Record<string, unknown>): Promise<TransformersTokenizer> };
  AutoModel: ModelClass;
  AutoModelForSeq2SeqLM: ModelClass;
  AutoModelForCausalLM: ModelClass;
  AutoConfig: { from_pretrained(model: string, options?: Record<string, unknown>): Promise<Record<string, unknown>> };
}

export interface ModelLoadOptions {
  /** Allow downloading from the Hugging Face Hub when the model is not a local folder (default false). */
  allowRemoteModels?: boolean;
  /** Where downloaded models are cached (transformers.js default otherwise). */
  cacheDir?: string;
  /** ONNX weights variant: `fp32` (default, `model.onnx`), `fp16`, `q8`, `q4`, ... */
  dtype?: string;
}

/** The slice of onnxruntime-node (a dependency of @huggingface/transformers) the generation loop uses. */
export interface OrtTensor {
  readonly dims: readonly number[];
  readonly type: string;
  readonly data: unknown;
}

export type OrtValueMetadata = { name: string; isTensor: false } | { name: string; isTensor: true; type: string; shape: ReadonlyArray<number | string> };

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtModule {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}

/** A loader that imports an optional package once, and again after a failure; a missing one is a model-load error. */
function onceLoader<T>(name: string, load: () => Promise<unknown>, neededFor: string, otherError: (error: unknown) => unknown): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return async () => {
    loading ??= importOptionalPackage(name, load, neededFor).then((module) => module as T);
    try {
      return await loading;
    } catch (error) {
      loading = undefined;
      if (MissingPackageError.isInstance(error)) throw markModelLoadError(error);
      throw otherError(error);
    }
  };
}

/**
 * Loads @huggingface/transformers once, on first use. It is an optional peer dependency (it brings
 * the ONNX runtimes, about 450 MB): without it, a MissingPackageError names the package to install.
 */
export const loadTransformers: () => Promise<TransformersModule> = onceLoader(
  '@huggingface/transformers',
  () => import('@huggingface/transformers'),
  'run ONNX models in Node (evaluation, BERTScore, the demo)',
  (error) =>
    markModelLoadError(new Prompt2ModelError({
      message: `Could not load @huggingface/transformers: ${(error as Error).message}`,
      cause: error,
      hint: 'Install it with `npm install @huggingface/transformers` (it brings onnxruntime-node).',
    })),
);

/**
 * Loads onnxruntime-node once, on first use: the runtime @huggingface/transformers itself ships
 * (so the two never disagree on its version), driven directly by the generation loop.
 */
export const loadOnnxRuntime: () => Promise<OrtModule> = onceLoader(
  'onnxruntime-node',
  () => import('onnxruntime-node'),
  'run ONNX models in Node (evaluation, the demo, serve)',
  (error) => error,
);

/**
 * A local folder as an absolute path: transformers.js reads a relative name that looks like a Hub
 * id (`my-model`) as `<env.localModelPath>/my-model`, not relative to the working directory.
 */
export function modelLocation(model: string): string {
  return existsSync(model) ? resolve(model) : model;
}

/** Whether `location` (from `modelLocation`) is a folder on this machine rather than a Hub id. */
export function isLocalFolder(location: string): boolean {
  try {
    return statSync(location).isDirectory();
  } catch {
    return false;
  }
}

/** Options passed to every `from_pretrained`/`pipeline` call. */
export function pretrainedOptions(options: ModelLoadOptions): Record<string, unknown> {
  return {
    dtype: options.dtype ?? 'fp32',
    local_files_only: !(options.allowRemoteModels ?? false),
    ...(options.cacheDir ? { cache_dir: options.cacheDir } : {}),
  };
}

const MODEL_LOAD_ERROR = Symbol.for('prompt2model.evaluator.model-load-error');

/** Whether an error says a model (or the runtime) could not be loaded. */
export function isModelLoadError(error: unknown): error is Prompt2ModelError {
  return Prompt2ModelError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[MODEL_LOAD_ERROR] === true;
}

function markModelLoadError(error: Prompt2ModelError): Prompt2ModelError {
  Object.defineProperty(error, MODEL_LOAD_ERROR, { value: true });
  return error;
}

/** Wraps a loading failure with what to do about it. */
export function modelLoadError(model: string, error: unknown, options: ModelLoadOptions): Prompt2ModelError {
  const remote = options.allowRemoteModels ?? false;
  return markModelLoadError(new Prompt2ModelError({
    message: `Could not load the ONNX model "${model}": ${(error as Error).message}`,
    cause: error,
    hint: remote
      ? 'Check the model id (it needs ONNX weights, e.g. an Xenova/ or onnx-community/ export) and the network.'
      : 'Remote loading is off: pass a local folder with config.json, tokenizer.json and onnx/*.onnx, or allow remote models (`allowRemoteModels: true`).',
  }));
}

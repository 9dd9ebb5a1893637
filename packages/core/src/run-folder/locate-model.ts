import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ValidationError } from '../errors/validation-error.js';
import { TrainedModelSchema, type TrainedModel } from '../schemas.js';
import { WorkerResultSchema } from './files.js';
import { JOB_FILES, JOB_OUTPUT_FILES, RUN_FILES } from './layout.js';
import { resolveTrainedModel } from './portable.js';

/** The runtimes that run a model: each is one entry of an `ExecutorTable`. */
export type ModelRuntime = 'onnx' | 'python-worker' | 'language-model';

/** A way a trained model is saved on disk. `api` is a model behind a provider's API (nothing on disk). */
export type ModelFormat = 'onnx-fp32' | 'onnx-q8' | 'merged' | 'pytorch' | 'adapter';

export interface ModelFormatInfo {
  /** What runs it. */
  runtime: ModelRuntime;
  description: string;
  /** The ONNX weights variant (transformers.js `dtype`), for ONNX formats. */
  dtype?: string;
}

/**
 * The table of model formats: what each is and which runtime runs it. Adding a format (GGUF is
 * next) is one entry here, its detection in `formatsInFolder`, an exporter in the trainer's
 * `EXPORT_FORMATS` and an executor factory for its runtime (docs/contributing/add-a-model-format.md).
 */
export const MODEL_FORMATS: Record<ModelFormat, ModelFormatInfo> = {
  'onnx-fp32': { runtime: 'onnx', dtype: 'fp32', description: 'ONNX export, fp32 weights (transformers.js layout: config, tokenizer, onnx/*.onnx)' },
  'onnx-q8': { runtime: 'onnx', dtype: 'q8', description: 'ONNX export, dynamic int8 weights (onnx/*_quantized.onnx)' },
  merged: { runtime: 'python-worker', description: 'PyTorch model with the LoRA adapter merged into the base weights' },
  pytorch: { runtime: 'python-worker', description: 'PyTorch model (full fine-tune or any transformers folder)' },
  adapter: { runtime: 'python-worker', description: 'LoRA adapter alone (runs on its base model)' },
};

/** Which format runs when several exist: Node runtimes first (no Python), full precision before q8. */
export const MODEL_FORMAT_PREFERENCE: readonly ModelFormat[] = ['onnx-fp32', 'onnx-q8', 'merged', 'pytorch', 'adapter'];

/** Where the executor of each runtime comes from, for the error when a table lacks it. */
export const MODEL_RUNTIMES: Record<ModelRuntime, { executor: string; package: string }> = {
  onnx: { executor: 'OnnxExecutor', package: '@prompt2model/evaluator' },
  'python-worker': { executor: 'WorkerExecutor', package: '@prompt2model/trainer' },
  'language-model': { executor: 'LanguageModelExecutor', package: '@prompt2model/evaluator' },
};

/** What `locateModel` found. */
export interface ModelLocation {
  /** What the folder is: a run folder, a training job folder (or its `output/`), a model folder, or an API model. */
  kind: 'run' | 'job' | 'model' | 'managed';
  /** The folder asked about (absolute), or the model id of an API model. */
  folder: string;
  /** Each format present, with the folder that holds it (for ONNX, the transformers.js root). */
  formats: Partial<Record<ModelFormat, string>>;
  /** The tokenizer folder of the PyTorch formats, when the job named one. */
  tokenizer?: string;
  /** The base model an adapter runs on, when known. */
  baseModel?: string;
  /** The run's trained model (paths absolute), for a run folder. */
  trained?: TrainedModel;
}

/** The file-name suffix of each ONNX weights variant (transformers.js `dtype` naming: q8 is `<graph>_quantized.onnx`). */
export const ONNX_DTYPE_SUFFIX: Readonly<Record<string, string>> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', bnb4: '_bnb4', q4f16: '_q4f16' };

/** The graphs of an ONNX export in the layout transformers.js loads, by task. */
export const ONNX_GRAPHS = { 'text2text-generation': ['encoder_model', 'decoder_model_merged'], 'text-generation': ['model'] } as const;

/** A file of an ONNX weight variant other than fp32 (which has no suffix), from `ONNX_DTYPE_SUFFIX`. */
const ONNX_VARIANT_SUFFIX = new RegExp(`(${Object.values(ONNX_DTYPE_SUFFIX).filter(Boolean).join('|')})\\.onnx$`);

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The ONNX formats of an export folder (`onnx/*.onnx`, or `*.onnx` at its root). */
function onnxFormats(dir: string): Partial<Record<ModelFormat, string>> {
  const files = [...listDir(join(dir, 'onnx')), ...listDir(dir)].filter((name) => name.endsWith('.onnx'));
  const formats: Partial<Record<ModelFormat, string>> = {};
  if (files.some((name) => !ONNX_VARIANT_SUFFIX.test(name))) formats['onnx-fp32'] = dir;
  if (files.some((name) => name.endsWith('_quantized.onnx'))) formats['onnx-q8'] = dir;
  return formats;
}

/** The formats one model folder holds by its files. */
export function formatsInFolder(dir: string): Partial<Record<ModelFormat, string>> {
  const files = listDir(dir);
  const formats = onnxFormats(dir);
  if (files.includes('adapter_config.json')) formats.adapter = dir;
  else if (files.includes('config.json') && files.some((name) => /\.safetensors$|^pytorch_model.*\.bin$/.test(name))) {
    formats[basename(dir) === 'merged' ? 'merged' : 'pytorch'] = dir;
  }
  return formats;
}

/** How far above a model folder its run folder may sit: `<run>/training/<job>/output/onnx`. */
export const RUN_FOLDER_DEPTH = 4;

/**
 * The prompt spec of the run a model folder belongs to: `prompt-spec.json` in the folder itself or
 * in one up to `RUN_FOLDER_DEPTH` levels above it (the nearest wins), else undefined.
 */
export function findRunPromptSpec(modelFolder: string): string | undefined {
  let dir = resolve(modelFolder);
  for (let level = 0; level <= RUN_FOLDER_DEPTH; level++) {
    const path = join(dir, RUN_FILES.promptSpec);
    if (existsSync(path)) return path;
    if (dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * Where the export of a model folder goes by default: `output/onnx` of its training job (beside
 * `merged/`, `model/`, `adapter/`), `<output>/onnx` for a job's `output/` folder, else `<folder>-onnx`.
 */
export function defaultExportDir(modelFolder: string, exportName: string = JOB_OUTPUT_FILES.onnx): string {
  const folder = resolve(modelFolder);
  if (existsSync(join(folder, JOB_OUTPUT_FILES.result))) return join(folder, exportName);
  if (['merged', 'model', 'adapter'].includes(basename(folder)) && existsSync(join(dirname(folder), JOB_OUTPUT_FILES.result))) return join(dirname(folder), exportName);
  return `${folder}-${exportName}`;
}

function readJsonSync(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError({ subject: path, issues: [{ path: '', message: 'not valid JSON' }], hint: 'Delete the file and rerun the step that writes it.' });
  }
}

/** A job's `output/` folder: what its `result.json` names, and its ONNX export. */
function locateJobOutput(output: string): Pick<ModelLocation, 'formats' | 'tokenizer'> {
  const path = join(output, JOB_OUTPUT_FILES.result);
  const parsed = WorkerResultSchema.safeParse(readJsonSync(path));
  if (!parsed.success) throw ValidationError.fromZod(path, parsed.error, 'The worker wrote an unexpected result; delete it and rerun training.');
  const result = parsed.data;
  const at = (name: string) => resolve(output, name);
  const formats: Partial<Record<ModelFormat, string>> = { ...onnxFormats(join(output, JOB_OUTPUT_FILES.onnx)) };
  if (result.merged) formats.merged = at(result.merged);
  if (result.adapter) formats.adapter = at(result.adapter);
  if (!result.merged && result.model !== result.adapter) formats.pytorch = at(result.model);
  return { formats, ...(result.tokenizer ? { tokenizer: at(result.tokenizer) } : {}) };
}

/** The formats of a trained model record (paths absolute): its artifacts, else what its folder holds. */
export function locateTrainedModel(model: TrainedModel): ModelLocation {
  if (model.kind !== 'local-folder') return { kind: 'managed', folder: model.reference, formats: {}, trained: model };
  const { artifacts } = model;
  const formats: Partial<Record<ModelFormat, string>> = artifacts.onnx ? onnxFormats(artifacts.onnx) : {};
  if (artifacts.merged) formats.merged = artifacts.merged;
  if (artifacts.adapter) formats.adapter = artifacts.adapter;
  if (artifacts.model && artifacts.model !== artifacts.adapter && artifacts.model !== artifacts.merged) formats.pytorch = artifacts.model;
  const noArtifacts = !artifacts.onnx && !artifacts.merged && !artifacts.adapter && !artifacts.model;
  const scanned = noArtifacts && isDirectory(model.reference) ? locateModel(model.reference) : undefined;
  return {
    kind: scanned?.kind ?? 'model',
    folder: model.reference,
    formats: { ...scanned?.formats, ...formats },
    ...(artifacts.tokenizer ? { tokenizer: artifacts.tokenizer } : scanned?.tokenizer ? { tokenizer: scanned.tokenizer } : {}),
    ...(model.baseModel ? { baseModel: model.baseModel } : {}),
    trained: model,
  };
}

/** The run folder's trained model (`trained-model.json`), its folders resolved against `runDir`; undefined before training. */
export function readTrainedModelSync(runDir: string): TrainedModel | undefined {
  const path = join(runDir, RUN_FILES.trainedModel);
  if (!existsSync(path)) return undefined;
  const parsed = TrainedModelSchema.safeParse(readJsonSync(path));
  if (!parsed.success) throw ValidationError.fromZod(path, parsed.error, 'Rerun training (the same command with the same run folder) to rewrite it.');
  return resolveTrainedModel(parsed.data, resolve(runDir));
}

/**
 * The one answer to "where is the trained model, and in which formats?": given a run folder
 * (`trained-model.json`), a training job folder (`job.json` + `output/`), a job's `output/` folder
 * (`result.json`) or a model folder, the formats that exist there with their folders. A model
 * folder inside a job also finds the job's ONNX export; a plain folder finds `<folder>-onnx`.
 * Nothing else walks model folders.
 */
export function locateModel(folder: string): ModelLocation {
  const dir = resolve(folder);
  if (!isDirectory(dir)) {
    throw new ModelNotFoundError({ message: `${folder} is not a folder.`, hint: 'Pass a run folder, a training job folder or a model folder.' });
  }
  const trained = readTrainedModelSync(dir);
  if (trained) return { ...locateTrainedModel(trained), kind: 'run', folder: dir };
  const output = existsSync(join(dir, JOB_FILES.config)) ? join(dir, JOB_FILES.output) : dir;
  if (existsSync(join(output, JOB_OUTPUT_FILES.result))) return { kind: 'job', folder: dir, ...locateJobOutput(output) };
  const formats = formatsInFolder(dir);
  const parent = dirname(dir);
  if (['merged', 'model', 'adapter'].includes(basename(dir)) && existsSync(join(parent, JOB_OUTPUT_FILES.result))) {
    // A model folder of a job: its export is the job's output/onnx.
    return { kind: 'model', folder: dir, formats: { ...onnxFormats(join(parent, JOB_OUTPUT_FILES.onnx)), ...formats } };
  }
  const sibling = defaultExportDir(dir);
  return { kind: 'model', folder: dir, formats: { ...(isDirectory(sibling) ? onnxFormats(sibling) : {}), ...formats } };
}

/** The format that runs, of those found: the first of `MODEL_FORMAT_PREFERENCE` (or `prefer`) present. */
export function preferredFormat(location: ModelLocation, prefer: readonly ModelFormat[] = MODEL_FORMAT_PREFERENCE): { format: ModelFormat; path: string } | undefined {
  for (const format of prefer) {
    const path = location.formats[format];
    if (path !== undefined) return { format, path };
  }
  return undefined;
}

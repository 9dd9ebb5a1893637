import { resolve } from 'node:path';
import { defaultExportDir, lockFolder, Prompt2ModelError, throwIfAborted, type ModelFormat, type ProgressEmitter, type TrainedModel } from '@prompt2model/core/internal';
import { defaultPython } from './python-environment.js';
import { PYTHON_INSTALL_HINT, resolveModelReference, workerEnv } from './python-path.js';
import { runWorkerProcess } from './worker-process.js';

export interface ExportOnnxOptions {
  /** Model folder: the merged copy, a full fine-tune, a job's `output/` folder, or a LoRA adapter (with `baseModel`). */
  model: string;
  /** Folder to write (default: core's `defaultExportDir(model)`: `output/onnx` of its training job). */
  out?: string;
  /** `q8`: also write onnxruntime's dynamic int8 weights (`*_quantized.onnx`, transformers.js `dtype: 'q8'`). */
  quantize?: 'q8';
  /** Base model of an adapter-only `model`. */
  baseModel?: string;
  /** Python with torch, transformers, onnx, onnxscript (and onnxruntime for q8). Default: `defaultPython()`. */
  python?: string;
  /** Replaces the export command (argv, default `<python> -m p2m_worker.export`); its arguments are appended. */
  workerCommand?: string[];
  env?: NodeJS.ProcessEnv;
  events?: ProgressEmitter;
  signal?: AbortSignal;
  /** Progress stage name (default `export`). */
  stage?: string;
}

export interface OnnxExportResult {
  /** The exported folder (config, tokenizer, onnx/). */
  dir: string;
  architecture: 'encoder-decoder' | 'decoder-only';
  /** Each ONNX file (relative to `dir`) and its size in bytes. */
  files: Record<string, number>;
  /** Bytes of the fp32 ONNX files. */
  bytes: number;
  /** Bytes of the q8 files, when quantized. */
  quantizedBytes?: number;
  /** Wall time of the export, model loading included. */
  seconds: number;
}

/**
 * Exports a trained model to ONNX in the transformers.js layout (with the key/value cache, and a q8
 * variant on request) through the worker's export mode (`python -m p2m_worker.export`), with
 * progress events per stage. The result runs in Node with the evaluator's `OnnxExecutor`.
 */
export async function exportOnnx(options: ExportOnnxOptions): Promise<OnnxExportResult> {
  throwIfAborted(options.signal);
  const out = resolve(options.out ?? defaultExportDir(resolveModelReference(options.model)));
  // Two exports writing one folder would leave a mix of both.
  const unlock = await lockFolder(out, 'ONNX export');
  try {
    return await exportLocked(options, out);
  } finally {
    unlock();
  }
}

async function exportLocked(options: ExportOnnxOptions, out: string): Promise<OnnxExportResult> {
  const stage = options.stage ?? 'export';
  const model = resolveModelReference(options.model);
  const argv = options.workerCommand ?? [defaultPython(options.python), '-m', 'p2m_worker.export'];
  const args = ['--model', model, '--out', out];
  if (options.quantize) args.push('--quantize', options.quantize);
  if (options.baseModel) args.push('--base-model', resolveModelReference(options.baseModel));
  const stream = runWorkerProcess({
    command: argv[0]!,
    args: [...argv.slice(1), ...args],
    env: workerEnv(options.env),
    ...(options.signal ? { signal: options.signal } : {}),
    cancelGraceMs: 5000,
    notFoundHint: PYTHON_INSTALL_HINT,
    label: 'export worker',
    cancelledMessage: 'The export was cancelled; rerun it to start over.',
  });
  let total = 0;
  for await (const event of stream) {
    switch (event.type) {
      case 'start':
        total = typeof event.totalSteps === 'number' ? event.totalSteps : 0;
        options.events?.emit({ type: 'progress', stage, done: 0, total });
        options.events?.log('info', `Exporting ${model} (${String(event.architecture)}) to ${out}`, stage);
        break;
      case 'step':
        options.events?.emit({ type: 'progress', stage, done: event.step, total: event.totalSteps ?? total });
        break;
      case 'log':
        options.events?.log(event.level === 'warn' || event.level === 'warning' ? 'warn' : 'debug', event.message, stage);
        break;
      case 'error': {
        const hint =
          typeof event.install === 'string' && event.install !== ''
            ? `Install the missing packages: ${event.install}`
            : typeof event.hint === 'string'
              ? event.hint
              : 'Check that the folder holds a model the trainer saved (config.json and weights, or a LoRA adapter with its base model).';
        throw new Prompt2ModelError({ message: `ONNX export of ${model} failed: ${event.message}`, hint });
      }
      case 'done': {
        const files = (event.files ?? {}) as Record<string, number>;
        const result: OnnxExportResult = {
          dir: out,
          architecture: event.architecture === 'encoder-decoder' ? 'encoder-decoder' : 'decoder-only',
          files,
          bytes: Number(event.bytes ?? 0),
          seconds: Number(event.seconds ?? 0),
          ...(typeof event.quantizedBytes === 'number' ? { quantizedBytes: event.quantizedBytes } : {}),
        };
        return result;
      }
      default:
        break;
    }
  }
  throw new Prompt2ModelError({ message: `The export worker for ${model} stopped before it was done.`, hint: 'Rerun the export.' });
}

/**
 * Exports a locally trained model and returns it with `artifacts.onnx` naming the export, so
 * evaluation and the demo run it in Node without Python. The ONNX folder goes beside the model
 * (`output/onnx` of its job).
 */
export async function exportTrainedModel(
  model: TrainedModel,
  options: Omit<ExportOnnxOptions, 'model' | 'baseModel'> = {},
): Promise<{ model: TrainedModel; export: OnnxExportResult }> {
  if (model.kind !== 'local-folder') {
    throw new Prompt2ModelError({ message: `Only local model folders can be exported; "${model.reference}" is a ${model.kind}.`, hint: 'Train with the local or command backend to get an exportable model.' });
  }
  const source = model.artifacts.merged ?? model.artifacts.model ?? model.reference;
  const adapterOnly = !model.artifacts.merged && model.artifacts.adapter !== undefined && source === model.artifacts.adapter;
  const { quantize, ...rest } = options;
  const format = EXPORT_FORMATS[quantize === 'q8' ? 'onnx-q8' : 'onnx'];
  const result = await format.run({
    ...rest,
    model: source,
    ...(options.out ? {} : { out: defaultExportDir(source, format.folder) }),
    ...(adapterOnly ? { baseModel: model.baseModel } : {}),
  });
  return { model: { ...model, artifacts: { ...model.artifacts, onnx: result.dir } }, export: result };
}

export type ExportFormatName = 'onnx' | 'onnx-q8';

/** One way to export a trained PyTorch model: what it leaves (core's model formats) and how it runs. */
export interface ExportFormat {
  description: string;
  /** The model formats the export writes, as core's `locateModel` finds them afterwards. */
  produces: readonly ModelFormat[];
  /** Its folder beside the model inside a job's `output/` (core's `defaultExportDir`). */
  folder: string;
  run(options: Omit<ExportOnnxOptions, 'quantize'>): Promise<OnnxExportResult>;
}

/**
 * The export formats. Adding one (GGUF is next) is an entry here with its exporter, a format in
 * core's `MODEL_FORMATS`, and an executor for its runtime (docs/contributing/add-a-model-format.md).
 */
export const EXPORT_FORMATS: Record<ExportFormatName, ExportFormat> = {
  onnx: { description: 'ONNX, fp32 weights (transformers.js layout)', produces: ['onnx-fp32'], folder: 'onnx', run: (options) => exportOnnx(options) },
  'onnx-q8': {
    description: 'ONNX, fp32 and dynamic int8 weights',
    produces: ['onnx-fp32', 'onnx-q8'],
    folder: 'onnx',
    run: (options) => exportOnnx({ ...options, quantize: 'q8' }),
  },
};

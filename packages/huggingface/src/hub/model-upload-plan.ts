import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { folderLockState, locateModel, Prompt2ModelError } from '@prompt2model/core/internal';

/** One file of a model repo: its path in the repo and on this disk. */
export interface PlannedUpload {
  path: string;
  file: string;
  bytes: number;
}

export interface ModelUploadPlan {
  /** The PyTorch model folder that fills the repo root (merged copy or full fine-tune), when there is one. */
  model?: string;
  /** The ONNX export whose `onnx/*.onnx` files go to the repo's `onnx/` folder, when there is one. */
  onnx?: string;
  files: PlannedUpload[];
  /** Files in those folders that are left out (checkpoints, logs, optimizer state, ...), relative to their folder. */
  skipped: string[];
}

/**
 * What a model repo may hold: weights, configs, tokenizer files, the adapter config and the card.
 * Everything else in a training folder (checkpoints, optimizer and scheduler state, events.jsonl,
 * job.json, training_args.bin, the run's caches) stays home.
 */
const MODEL_FILE = /^(README\.md|config\.json|generation_config\.json|adapter_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|chat_template\.(jinja|json)|spiece\.model|sentencepiece\.bpe\.model|tokenizer\.model|vocab\.(json|txt)|merges\.txt|(model|adapter_model)(-\d{5}-of-\d{5})?\.safetensors|model\.safetensors\.index\.json)$/;
const ONNX_FILE = /^[\w.-]+\.onnx(_data)?$/;
/**
 * Root files the ONNX export's copy of wins over the PyTorch folder's: the export saves the same
 * tokenizer with the class names transformers.js resolves (transformers loads them too), while the
 * PyTorch folder's tokenizer_config.json may name a Python-only backend transformers.js cannot load.
 */
const EXPORT_WINS = /^(tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json)$/;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [entry.name] : entry.isDirectory() ? [`${entry.name}/`] : []));
}

/**
 * The model and its ONNX export from what `--model` names (a run folder, a training job folder,
 * its `output/` folder, a model folder, or an ONNX export alone), through core's `locateModel`.
 */
export function locateModelFolders(dir: string): { model?: string; onnx?: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Prompt2ModelError({ message: `${dir} is not a folder.`, hint: 'Pass the trained model folder (or the run folder of `prompt2model run`/`train`).' });
  }
  const { formats } = locateModel(dir);
  const model = formats.merged ?? formats.pytorch ?? formats.adapter;
  const onnx = formats['onnx-fp32'] ?? formats['onnx-q8'];
  return { ...(model ? { model } : {}), ...(onnx ? { onnx } : {}) };
}

/**
 * The files of a model repo: the model folder's model files at the root (config, weights,
 * tokenizer, README.md card) and the export's `onnx/*.onnx` under `onnx/` (with the export's
 * config and tokenizer at the root when there is no PyTorch model), so the one repo loads in
 * transformers and transformers.js. `pushModel` scans the files for secrets before any upload.
 */
export function planModelUpload(dir: string): ModelUploadPlan {
  const { model, onnx } = locateModelFolders(dir);
  if (!model && !onnx) {
    throw new Prompt2ModelError({ message: `No model weights in ${dir} (no *.safetensors, no onnx/*.onnx): nothing to upload, and no repo was created.`, hint: 'Pass a folder with config.json and the weights (the merged/ or model/ folder of a training job), or its ONNX export.' });
  }
  for (const folder of [onnx, model]) if (folder) refuseUnfinished(folder);
  const files = new Map<string, PlannedUpload>();
  const skipped: string[] = [];
  const add = (path: string, file: string) => files.set(path, { path, file, bytes: statSync(file).size });
  for (const root of [onnx, model].filter((folder): folder is string => folder !== undefined)) {
    // The model folder last: its card and configs win over the export's copies (not the tokenizer files, see EXPORT_WINS).
    for (const name of listFiles(root)) {
      if (name === 'onnx/' && root === onnx) continue;
      if (root === model && onnx && EXPORT_WINS.test(name) && files.has(name)) continue;
      if (MODEL_FILE.test(name)) add(name, join(root, name));
      else skipped.push(relative(dirname(root), join(root, name)));
    }
  }
  if (onnx) {
    for (const name of listFiles(join(onnx, 'onnx'))) {
      if (ONNX_FILE.test(name)) add(`onnx/${name}`, join(onnx, 'onnx', name));
      else skipped.push(`onnx/${name}`);
    }
  }
  return { ...(model ? { model } : {}), ...(onnx ? { onnx } : {}), files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)), skipped };
}

/** A folder another process is writing, or one whose writer was killed mid-way, is not uploaded. */
function refuseUnfinished(folder: string): void {
  const lock = folderLockState(folder);
  if (lock.state === 'free') return;
  const what = lock.purpose ?? 'a prompt2model process';
  if (lock.state === 'held') {
    throw new Prompt2ModelError({
      message: `${folder} is being written right now (${what}, pid ${lock.pid}): nothing was uploaded.`,
      hint: 'Wait for that process to finish, then push again.',
      exitCategory: 'configuration',
    });
  }
  throw new Prompt2ModelError({
    message: `${folder} was left unfinished (${what}${lock.pid !== undefined ? `, pid ${lock.pid}` : ''} stopped before it was done), so its files may be partial: nothing was uploaded.`,
    hint: 'Run the step that writes it again (rerun the same command, or `prompt2model export` for an ONNX export), then push.',
    exitCategory: 'configuration',
  });
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { processEnvironment, Prompt2ModelError, secretSettingValues, type SettingsEnvironment } from '@prompt2model/core/internal';

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

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [entry.name] : entry.isDirectory() ? [`${entry.name}/`] : []));
}

/**
 * Finds the model and its ONNX export from what `--model` names: a run folder
 * (`trained-model.json`), a training job's `output/` folder (`result.json`), the merged/full model
 * folder inside it (its ONNX export is the sibling `onnx/`), a plain model folder, or an ONNX export alone.
 */
export function locateModelFolders(dir: string): { model?: string; onnx?: string } {
  const folder = resolve(dir);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Prompt2ModelError({ message: `${dir} is not a folder.`, hint: 'Pass the trained model folder (or the run folder of `prompt2model run`/`train`).' });
  }
  const trained = join(folder, 'trained-model.json');
  if (existsSync(trained)) {
    const model = JSON.parse(readFileSync(trained, 'utf8')) as { reference?: string; artifacts?: { merged?: string; model?: string; onnx?: string } };
    const source = model.artifacts?.merged ?? model.artifacts?.model ?? model.reference;
    return {
      ...(source && existsSync(join(source, 'config.json')) ? { model: source } : {}),
      ...(model.artifacts?.onnx && existsSync(model.artifacts.onnx) ? { onnx: model.artifacts.onnx } : {}),
    };
  }
  const result = join(folder, 'result.json');
  if (existsSync(result)) {
    const parsed = JSON.parse(readFileSync(result, 'utf8')) as { merged?: string; model?: string };
    const source = join(folder, parsed.merged ?? parsed.model ?? 'model');
    return { ...(existsSync(join(source, 'config.json')) ? { model: source } : {}), ...(existsSync(join(folder, 'onnx', 'onnx')) ? { onnx: join(folder, 'onnx') } : {}) };
  }
  const hasWeights = listFiles(folder).some((name) => /\.safetensors$/.test(name));
  const isOnnxExport = existsSync(join(folder, 'onnx')) && listFiles(join(folder, 'onnx')).some((name) => ONNX_FILE.test(name));
  if (isOnnxExport && !hasWeights) return { onnx: folder };
  const sibling = join(dirname(folder), 'onnx');
  const onnx = isOnnxExport ? folder : ['merged', 'model'].includes(basename(folder)) && existsSync(join(sibling, 'onnx')) ? sibling : undefined;
  return { model: folder, ...(onnx ? { onnx } : {}) };
}

/**
 * The files of a model repo: the model folder's model files at the root (config, weights,
 * tokenizer, README.md card) and the export's `onnx/*.onnx` under `onnx/` (with the export's
 * config and tokenizer at the root when there is no PyTorch model), so the one repo loads in
 * transformers and transformers.js. Refuses when a file holds the value of a secret setting.
 */
export function planModelUpload(dir: string, env: SettingsEnvironment = processEnvironment()): ModelUploadPlan {
  const { model, onnx } = locateModelFolders(dir);
  if (!model && !onnx) {
    throw new Prompt2ModelError({ message: `No trained model in ${dir}.`, hint: 'Pass a folder with config.json and the weights (the merged/ or model/ folder of a training job), or its ONNX export.' });
  }
  const files = new Map<string, PlannedUpload>();
  const skipped: string[] = [];
  const add = (path: string, file: string) => files.set(path, { path, file, bytes: statSync(file).size });
  for (const root of [onnx, model].filter((folder): folder is string => folder !== undefined)) {
    // The model folder last: its card and configs win over the export's copies.
    for (const name of listFiles(root)) {
      if (name === 'onnx/' && root === onnx) continue;
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
  const secrets = secretSettingValues(env).filter((value) => value.length >= 8);
  if (secrets.length > 0) {
    for (const upload of files.values()) {
      if (upload.bytes > 5_000_000 || /\.(safetensors|onnx|onnx_data|model)$/.test(upload.path)) continue;
      const text = readFileSync(upload.file, 'utf8');
      if (secrets.some((secret) => text.includes(secret))) {
        throw new Prompt2ModelError({
          message: `${upload.file} contains the value of a secret setting (an API key or token); nothing was uploaded.`,
          hint: 'Remove the key from that file, then push again.',
        });
      }
    }
  }
  return { ...(model ? { model } : {}), ...(onnx ? { onnx } : {}), files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)), skipped };
}

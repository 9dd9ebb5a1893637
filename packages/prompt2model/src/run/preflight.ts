import { access, constants, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AbortError, APICallError, LoadSettingError, Prompt2ModelError, type LanguageModel, type SplitRatios, type TrainerBackend } from '@prompt2model/core/internal';
import type { MissingProviderSetting } from '../registry/model-providers.js';
import { PreflightError, type PreflightFailure } from './preflight-error.js';

export { PreflightError, type PreflightFailure } from './preflight-error.js';

/** One thing a later stage needs, checked before the first paid call. */
export interface PreflightCheck {
  name: string;
  /** Throws a Prompt2ModelError (message + hint) when the check fails. */
  run(signal: AbortSignal): Promise<void>;
}

/** Runs every check (in parallel) and throws one PreflightError listing all that failed. */
export async function runPreflight(checks: readonly PreflightCheck[], signal: AbortSignal): Promise<void> {
  const results = await Promise.allSettled(checks.map((check) => check.run(signal)));
  if (signal.aborted) throw new AbortError(undefined, signal.reason);
  const failures: PreflightFailure[] = [];
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') return;
    const error = result.reason as unknown;
    const message = error instanceof Error ? error.message : String(error);
    const hint = Prompt2ModelError.isInstance(error) ? error.hint : undefined;
    failures.push({ check: checks[index]!.name, message, ...(hint ? { hint } : {}) });
  });
  if (failures.length > 0) throw new PreflightError(failures);
}

/** The run folder can be created and written (and is not a file). */
export function outputFolderCheck(dir: string): PreflightCheck {
  return {
    name: 'run folder',
    async run() {
      const absolute = resolve(dir);
      try {
        const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
        if (info && !info.isDirectory()) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await mkdir(absolute, { recursive: true });
        const probe = join(absolute, `.write-test-${process.pid}`);
        const handle = await open(probe, 'w');
        await handle.close();
        await rm(probe, { force: true });
      } catch (error) {
        throw fileSystemError(error, absolute, 'the run folder (--out)');
      }
    },
  };
}

/** A file a stage reads (the model index) exists and can be read. */
export function readableFileCheck(name: string, path: string, flag: string): PreflightCheck {
  return {
    name,
    async run() {
      try {
        const info = await stat(path);
        if (info.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
        await access(path, constants.R_OK);
      } catch (error) {
        throw fileSystemError(error, path, `the ${name} (${flag})`);
      }
    },
  };
}

/**
 * The teacher's provider has its settings (`missing`: `hf:` models need a token or an endpoint,
 * OpenAI's API a key), and its key and base URL answer one cheap request (the models list; no
 * tokens) within `timeoutMs` (default 15 s) for the response headers: a server that never answers
 * fails here.
 */
export function teacherCheck(model: LanguageModel, options: { timeoutMs?: number; missing?: MissingProviderSetting | undefined } = {}): PreflightCheck {
  return {
    name: `teacher ${model.modelId}`,
    async run(signal) {
      const missing = options.missing;
      if (missing) throw new LoadSettingError({ message: missing.message, environmentVariableName: missing.environmentVariableName, hint: missing.hint });
      if (!model.checkAccess) return;
      try {
        await model.checkAccess({ signal, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
      } catch (error) {
        if (APICallError.isInstance(error) && error.statusCode === 401) {
          throw new Prompt2ModelError({ message: `${error.url ?? 'the endpoint'} rejected the API key (401).`, hint: error.hint ?? 'Check OPENAI_API_KEY.' });
        }
        if (APICallError.isInstance(error) && error.timeout) {
          throw new Prompt2ModelError({
            message: error.message,
            hint: 'Check that the server is running and serving this model; if it is only slow to answer, raise --first-byte-timeout (seconds).',
          });
        }
        throw error;
      }
    },
  };
}

/** The training backend could start a job now (its own check: a Python with the stack, a key). */
export function trainingBackendCheck(backend: TrainerBackend): PreflightCheck {
  return {
    name: `training backend (${backend.name})`,
    async run(signal) {
      await backend.checkReady?.({ signal });
    },
  };
}

/**
 * The backend's data rules can be met by the splits this run will make: e.g. OpenAI needs 10 rows
 * in the training file. (A validation file under its minimum is left out at training time.)
 */
export function dataRulesCheck(options: {
  backend: string;
  numExamples: number;
  split: { validation?: number; test?: number };
  minTrainExamples: number;
}): PreflightCheck {
  return {
    name: `data rules (${options.backend})`,
    async run() {
      const validationShare = options.split.validation ?? 0.1;
      const testShare = options.split.test ?? 0.1;
      const train = Math.floor(options.numExamples * (1 - validationShare - testShare));
      const problems: string[] = [];
      let needed = 0;
      if (train < options.minTrainExamples) {
        problems.push(`about ${train} training rows, and ${options.backend} needs at least ${options.minTrainExamples}`);
        needed = Math.max(needed, Math.ceil(options.minTrainExamples / (1 - validationShare - testShare)));
      }
      // A validation split smaller than the backend accepts is not a refusal: training leaves it out and says so.
      if (problems.length > 0) {
        throw new Prompt2ModelError({
          message: `--num-examples ${options.numExamples} gives ${problems.join('; ')}.`,
          hint: `Use --num-examples ${needed} or more.`,
        });
      }
    },
  };
}

/** A file-system error as a sentence naming the path and the fix (never a bare EEXIST/ENOENT). */
export function fileSystemError(error: unknown, path: string, what: string): Prompt2ModelError {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return new Prompt2ModelError({ message: `${what} ${path} does not exist.`, hint: 'Check the path (relative paths start from the current folder).', exitCategory: 'configuration' });
    case 'EEXIST':
    case 'ENOTDIR':
      return new Prompt2ModelError({ message: `${what} ${path} is a file (or lies under one), not a folder.`, hint: 'Pass a folder path that does not exist yet or is a folder, e.g. --out runs/my-task.', exitCategory: 'configuration' });
    case 'EISDIR':
      return new Prompt2ModelError({ message: `${what} ${path} is a folder, not a file.`, hint: 'Pass the path of the file itself.', exitCategory: 'configuration' });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new Prompt2ModelError({ message: `${what} ${path} cannot be written or read here (permission denied${code === 'EROFS' ? ', read-only file system' : ''}).`, hint: 'Choose a path you can write to, or fix its permissions.', exitCategory: 'configuration' });
    case 'ENOSPC':
      return new Prompt2ModelError({ message: `No space left on the device that holds ${path}.`, hint: 'Free some disk space or choose a folder on another disk.', exitCategory: 'configuration' });
    default:
      return Prompt2ModelError.isInstance(error)
        ? error
        : new Prompt2ModelError({ message: `${what} ${path}: ${(error as Error)?.message ?? String(error)}`, exitCategory: 'configuration' });
  }
}

/** What a pipeline run needs, as checks: the same list for `prompt2model run` and `createPipeline`. */
export interface PipelinePreflightOptions {
  outDir: string;
  teacher?: LanguageModel;
  /** The local model index model retrieval reads (when it runs). */
  modelIndex?: string;
  /** The local dataset index dataset retrieval reads (when it runs). */
  datasetIndex?: string;
  /** The bound on the teacher's first byte (default 15 s). */
  teacherTimeoutMs?: number;
  /** A setting the teacher's provider lacks (from `missingProviderSetting`): fails the teacher check. */
  teacherMissingSetting?: MissingProviderSetting | undefined;
  /** The Hub, when a stage will list or download from it (model retrieval without an index). */
  hub?: { access: HubAccess; needs: string };
  /** A base model given by hand, checked now rather than 20-50 s into training. */
  baseModel?: { name: string; access: HubAccess };
  /** The training backend and the data it will get (when training runs). */
  training?: { backend: TrainerBackend; numExamples: number; split?: SplitRatios };
}

export function pipelinePreflightChecks(options: PipelinePreflightOptions): PreflightCheck[] {
  const checks = [outputFolderCheck(options.outDir)];
  if (options.teacher) {
    checks.push(
      teacherCheck(options.teacher, {
        ...(options.teacherTimeoutMs !== undefined ? { timeoutMs: options.teacherTimeoutMs } : {}),
        ...(options.teacherMissingSetting ? { missing: options.teacherMissingSetting } : {}),
      }),
    );
  }
  if (options.modelIndex) checks.push(readableFileCheck('model index', options.modelIndex, '--index'));
  if (options.datasetIndex) checks.push(readableFileCheck('dataset index', options.datasetIndex, '--dataset-index'));
  if (options.hub) checks.push(hubCheck(options.hub.access, options.hub.needs));
  if (options.baseModel) checks.push(baseModelCheck(options.baseModel.name, options.baseModel.access));
  const training = options.training;
  if (training) {
    checks.push(
      trainingBackendCheck(training.backend),
      dataRulesCheck({
        backend: training.backend.dataRules.name,
        numExamples: training.numExamples,
        split: training.split ?? {},
        minTrainExamples: training.backend.dataRules.minTrainExamples,
      }),
    );
  }
  return checks;
}

/** The preflight's bound on the teacher's first byte: --first-byte-timeout when given, else 15 s. */
export function preflightTimeout(options: { firstByteTimeout?: number }): { timeoutMs?: number } {
  return options.firstByteTimeout !== undefined ? { timeoutMs: Math.round(options.firstByteTimeout * 1000) } : {};
}

/** Hub access as the stages use it: base URL and token (never printed). */
export interface HubAccess {
  hubUrl?: string;
  accessToken?: string;
}

/**
 * The Hugging Face Hub answers (a one-model listing), for the stages that list or download from it
 * (model retrieval without --index, dataset retrieval without --dataset-index, a Hub base model).
 */
export function hubCheck(access: HubAccess, needs: string): PreflightCheck {
  return {
    name: `Hugging Face Hub (for ${needs})`,
    async run(signal) {
      const { checkHubReachable } = await import('@prompt2model/huggingface/hub');
      try {
        await checkHubReachable({ ...access, signal });
      } catch (error) {
        if (AbortError.isInstance(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        throw new Prompt2ModelError({
          message: `${message.replace(/\.$/, '')}.`,
          hint: 'Check the network and HF_ENDPOINT, or work offline: --index FILE (`prompt2model index build` makes one), --dataset-index FILE or --no-retrieve-datasets.',
          exitCategory: 'configuration',
        });
      }
    },
  };
}

/**
 * The base model can be trained from, checked before any paid call: a local folder exists and
 * holds a readable config.json that names a model type; a Hub id has the Hub's form and names a
 * model that exists (one model-info request).
 */
export function baseModelCheck(name: string, access: HubAccess): PreflightCheck {
  return {
    name: `base model ${name}`,
    async run(signal) {
      const { parseModelName } = await import('@prompt2model/core/internal');
      const parsed = parseModelName(name, { providers: ['hf'], defaultProvider: 'hf' });
      if (parsed.kind === 'local-folder') return checkLocalModelFolder(parsed.path);
      const { checkHubModelExists } = await import('@prompt2model/huggingface/hub');
      await checkHubModelExists(parsed.modelId, { ...access, signal });
    },
  };
}

async function checkLocalModelFolder(path: string): Promise<void> {
  const folder = resolve(path);
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Prompt2ModelError({
      message: code === 'ENOENT' ? `the local model folder ${folder} does not exist.` : code === 'ENOTDIR' ? `${folder} is a file, not a model folder.` : `${folder} cannot be read (${code ?? (error as Error).message}).`,
      hint: 'Pass the folder that holds config.json and the weights, or a Hugging Face model id such as google/flan-t5-small.',
      exitCategory: 'configuration',
    });
  }
  const configPath = join(folder, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Prompt2ModelError({
      message: missing ? `${folder} holds no config.json: it is not a model folder.` : `${configPath} is not valid JSON (${(error as Error).message}).`,
      hint: missing ? 'Pass the folder of a saved Hugging Face model (save_pretrained writes config.json).' : 'The file is damaged: restore it, or download the model again.',
      exitCategory: 'configuration',
    });
  }
  const record = config as { model_type?: unknown; architectures?: unknown } | null;
  if (!record || typeof record !== 'object' || Array.isArray(record) || (typeof record.model_type !== 'string' && !Array.isArray(record.architectures))) {
    throw new Prompt2ModelError({
      message: `${configPath} names no model_type or architectures: transformers cannot load this folder.`,
      hint: 'The file is damaged or not a transformers config: restore it, or download the model again.',
      exitCategory: 'configuration',
    });
  }
}

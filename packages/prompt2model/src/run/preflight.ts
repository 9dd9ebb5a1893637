import { execFile } from 'node:child_process';
import { access, constants, mkdir, open, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AbortError, APICallError, LoadSettingError, Prompt2ModelError, type LanguageModel } from '@prompt2model/core';
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
 * The teacher's provider has its settings (`hf:` models a token or an endpoint, OpenAI's API a
 * key), and its key and base URL answer one cheap request (the models list; no tokens).
 */
export function teacherCheck(model: LanguageModel, missing?: MissingProviderSetting): PreflightCheck {
  return {
    name: `teacher ${model.modelId}`,
    async run(signal) {
      if (missing) throw new LoadSettingError({ message: missing.message, environmentVariableName: missing.environmentVariableName, hint: missing.hint });
      if (!model.checkAccess) return;
      try {
        await model.checkAccess({ signal });
      } catch (error) {
        if (APICallError.isInstance(error) && error.statusCode === 401) {
          throw new Prompt2ModelError({ message: `${error.url ?? 'the endpoint'} rejected the API key (401).`, hint: error.hint ?? 'Check OPENAI_API_KEY.' });
        }
        throw error;
      }
    },
  };
}

/** The local backend's Python has the training stack (or a worker command is configured). */
export function localTrainingCheck(options: { python?: string; workerCommand?: string[]; installHint: string }): PreflightCheck {
  return {
    name: 'training backend (local)',
    async run(signal) {
      if (options.workerCommand) {
        await access(options.workerCommand[0]!, constants.X_OK).catch(() => {
          throw new Prompt2ModelError({ message: `the worker command ${options.workerCommand![0]} cannot be run.`, hint: 'Fix P2M_WORKER_COMMAND, or unset it to use Python.' });
        });
        return;
      }
      const python = options.python ?? 'python3';
      const missing = await new Promise<string | undefined>((resolvePromise) => {
        execFile(
          python,
          ['-c', 'import importlib.util as u, sys; m=[n for n in ("torch","transformers","peft") if u.find_spec(n) is None]; print(",".join(m)); sys.exit(0)'],
          { timeout: 30_000, signal },
          (error, stdout) => {
            if (error) resolvePromise((error as NodeJS.ErrnoException).code === 'ENOENT' ? `python (${python} was not found)` : `python (${python} failed: ${error.message.split('\n')[0]})`);
            else resolvePromise(stdout.trim() || undefined);
          },
        );
      });
      if (missing) {
        throw new Prompt2ModelError({
          message: `local training cannot start: ${missing.startsWith('python') ? missing : `${python} lacks ${missing}`}.`,
          hint: `${options.installHint} Or pass --no-train to stop after data generation.`,
        });
      }
    },
  };
}

/** Managed fine-tuning needs what the OpenAI provider needs (a key for OpenAI itself). */
export function openAITrainingCheck(missing: MissingProviderSetting | undefined): PreflightCheck {
  return {
    name: 'training backend (openai)',
    async run() {
      if (missing) throw new LoadSettingError({ message: `OpenAI fine-tuning needs an API key, and ${missing.environmentVariableName} is not set.`, environmentVariableName: missing.environmentVariableName, hint: `${missing.hint} Or train locally with --backend local.` });
    },
  };
}

/**
 * The backend's data rules can be met by the splits this run will make: e.g. OpenAI needs 10 rows
 * in the training file and, when one is sent, in the validation file too.
 */
export function dataRulesCheck(options: {
  backend: string;
  numExamples: number;
  split: { validation?: number; test?: number };
  minTrainExamples: number;
  minValidationExamples?: number;
}): PreflightCheck {
  return {
    name: `data rules (${options.backend})`,
    async run() {
      const validationShare = options.split.validation ?? 0.1;
      const testShare = options.split.test ?? 0.1;
      const validation = Math.floor(options.numExamples * validationShare);
      const train = Math.floor(options.numExamples * (1 - validationShare - testShare));
      const problems: string[] = [];
      let needed = 0;
      if (train < options.minTrainExamples) {
        problems.push(`about ${train} training rows, and ${options.backend} needs at least ${options.minTrainExamples}`);
        needed = Math.max(needed, Math.ceil(options.minTrainExamples / (1 - validationShare - testShare)));
      }
      if (options.minValidationExamples !== undefined && validationShare > 0 && validation < options.minValidationExamples) {
        problems.push(`about ${validation} validation rows, and ${options.backend} needs at least ${options.minValidationExamples} in the validation file too`);
        needed = Math.max(needed, Math.ceil((options.minValidationExamples + 1) / validationShare));
      }
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

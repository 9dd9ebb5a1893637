import { existsSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childProcessEnvironment, type SettingName } from '@prompt2model/core/internal';

/**
 * Folder holding the `p2m_worker` Python package: `python/` at the package root, reached from
 * `src/` (tests, tsx) or from `dist/` (the published build).
 */
export function workerPythonDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'python'), join(here, '..', '..', 'python')];
  for (const candidate of candidates) {
    if (existsSync(join(candidate, 'p2m_worker', '__init__.py'))) return candidate;
  }
  return candidates[0]!;
}

export const PYTHON_INSTALL_HINT =
  'Run `prompt2model setup` (it creates a Python environment with the pinned training stack and the worker uses it), ' +
  'or pass `python` /path/to/python (or set P2M_PYTHON) of an environment with torch, transformers, peft and accelerate.';

/**
 * Environment of a worker process: ours without the API keys it does not need (core's
 * `childProcessEnvironment`), the extra variables, and the worker package on PYTHONPATH. `keep`
 * names the secrets the job needs: `HF_TOKEN` for training, which may download a gated base model
 * from the Hub; export and predict run local folders and get no key at all.
 */
export function workerEnv(extra: NodeJS.ProcessEnv = {}, keep: readonly SettingName[] = []): NodeJS.ProcessEnv {
  const env = childProcessEnvironment(extra, { keep });
  return {
    ...env,
    PYTHONPATH: [workerPythonDir(), env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: '1',
  };
}

/** Secrets a training job may need: a token for gated or private base models on the Hub. */
export const TRAINING_JOB_SECRETS: readonly SettingName[] = ['HF_TOKEN'];

/**
 * A model reference for a worker that runs in another folder (the job folder, a temporary one): a
 * local path (`./my-model`, `../runs/x/merged`, or a folder that exists) becomes absolute; a Hub id
 * (`google/flan-t5-small`) stays as it is.
 */
export function resolveModelReference(reference: string, cwd: string = process.cwd()): string {
  if (isAbsolute(reference)) return reference;
  const pathLike = /^\.{1,2}([\\/]|$)/.test(reference) || reference.startsWith('~');
  if (pathLike || existsSync(resolve(cwd, reference))) return resolve(cwd, reference);
  return reference;
}

import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childProcessEnvironment, processEnvironment } from '@prompt2model/core';

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
  'Install Python 3.9+ and the training stack: pip install "torch>=2.1" "transformers>=4.40" "peft>=0.10" accelerate sentencepiece ' +
  '(or pass --python /path/to/python of an environment that has them).';

/** Environment of a worker process: ours, the extra variables, and the worker package on PYTHONPATH. */
export function workerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...childProcessEnvironment(extra),
    PYTHONPATH: [workerPythonDir(), processEnvironment().PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: '1',
  };
}

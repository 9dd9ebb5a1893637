import { createInterface } from 'node:readline/promises';
import type { CliRuntime, GlobalOptions } from './runtime.js';

/**
 * Before local training: when no interpreter was chosen (--python, P2M_PYTHON) and no managed
 * environment exists, an interactive terminal is asked whether to create one now
 * (`prompt2model setup`); elsewhere (CI, pipes) nothing is asked and the worker's own error says
 * what to install.
 */
export async function offerPythonSetup(runtime: CliRuntime, options: GlobalOptions & { python?: string }): Promise<void> {
  if (!runtime.io.isTTY || !process.stdin.isTTY) return;
  const { needsPythonSetup, setupPythonEnvironment } = await import('@prompt2model/trainer/internal');
  if (!needsPythonSetup(options.python, runtime.io.env)) return;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question('No Python environment for training yet. Create one now with the pinned torch/transformers/peft stack (prompt2model setup)? [Y/n] ').finally(() => prompt.close());
  if (/^n/i.test(answer.trim())) return;
  await setupPythonEnvironment({ env: runtime.io.env, events: runtime.progressEvents(options), signal: runtime.signal });
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/program.js';

/** One LLM cache folder per test file, never the user's own cache directory. */
export const TEST_CACHE_DIR = mkdtempSync(join(tmpdir(), 'p2m-test-cache-'));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process as a non-TTY with the given environment, capturing its output. */
export async function runCliCaptured(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), isTTY: false, env: { P2M_CACHE_DIR: TEST_CACHE_DIR, ...env } });
  return { code, stdout, stderr };
}

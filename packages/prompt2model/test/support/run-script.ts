import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// tsx by absolute URL, so a script runs from any working folder (a temporary one included).
const TSX = pathToFileURL(join(resolve(import.meta.dirname, '../../../..'), 'node_modules/tsx/dist/loader.mjs')).href;

/**
 * Runs a TypeScript file (an example) in a fresh Node process through tsx, as a user would; it
 * must end by itself (a server left running keeps it alive until the test times out).
 */
export function runScript(file: string, options: { args?: string[]; cwd?: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, file, ...(options.args ?? [])], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (exit) => done({ code: exit, stdout, stderr }));
  });
}

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface SpawnedCliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in ms. */
  ms: number;
  /** When `interrupt` fired: ms from the interrupt to exit. */
  msAfterInterrupt?: number;
}

export interface SpawnCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Send SIGINT once stderr matches this (e.g. a stage starting), then measure how fast it stops. */
  interruptWhen?: RegExp;
  /** The signal sent at `interruptWhen` (default SIGINT, a Ctrl-C; SIGKILL is a kill -9). */
  interruptSignal?: NodeJS.Signals;
  /** Extra wait after the match before the interrupt, in ms. */
  interruptDelayMs?: number;
  timeoutMs?: number;
  cwd?: string;
}

/**
 * Runs the CLI in a fresh Node process (source through tsx, sibling packages from their builds),
 * as a user would: real signals, real exit codes, no shared module state between runs.
 */
export function spawnCli(argv: string[], options: SpawnCliOptions = {}): Promise<SpawnedCliResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    let interruptedAt: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (options.interruptWhen && interruptedAt === undefined && options.interruptWhen.test(stderr)) {
        interruptedAt = -1;
        setTimeout(() => {
          interruptedAt = Date.now();
          child.kill(options.interruptSignal ?? 'SIGINT');
        }, options.interruptDelayMs ?? 0);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ended = Date.now();
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        ms: ended - started,
        ...(interruptedAt !== undefined && interruptedAt > 0 ? { msAfterInterrupt: ended - interruptedAt } : {}),
      });
    });
  });
}

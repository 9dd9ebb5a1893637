import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface StartedServer<First> {
  child: ChildProcess;
  /** The first stdout line (`--json`: the server's address), parsed. */
  first: First;
  stderr: () => string;
  exit: Promise<number | null>;
}

/**
 * Starts a server verb of the CLI (`demo`, `serve`) in a child process, so Ctrl-C is a real SIGINT,
 * and resolves once it prints its first stdout line (with `--json`, once it listens).
 */
export async function startServerProcess<First = Record<string, unknown>>(nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<StartedServer<First>> {
  const child = spawn(process.execPath, nodeArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exit.then((code) => reject(new Error(`${nodeArgs.join(' ')} exited with ${code} before listening: ${stderr}`)));
  });
  return { child, first: JSON.parse(first) as First, stderr: () => stderr, exit };
}

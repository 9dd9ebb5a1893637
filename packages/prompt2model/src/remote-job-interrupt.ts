import { createInterface } from 'node:readline';
import type { CliRuntime } from './runtime.js';

/**
 * What Ctrl-C does to a remote training job that bills by the minute: on an interactive terminal
 * the user is asked whether to cancel it or leave it running (Enter, or Ctrl-C again, leaves it:
 * nothing is lost and a rerun re-attaches); elsewhere (CI, pipes) it is left running and the
 * backend says how to cancel it.
 */
export function askAboutRemoteJob(runtime: CliRuntime): (job: { id: string; url: string }) => Promise<'cancel' | 'leave'> {
  return async (job) => {
    if (!runtime.io.isTTY || !process.stdin.isTTY) return 'leave';
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await new Promise<string>((resolve) => {
      prompt.on('SIGINT', () => resolve(''));
      prompt.on('close', () => resolve(''));
      prompt.question(`Cancel the remote job ${job.id} (billing stops; a rerun starts over), or leave it running (a rerun re-attaches)? [c = cancel / Enter = leave] `, resolve);
    }).finally(() => prompt.close());
    return /^c/i.test(answer.trim()) ? 'cancel' : 'leave';
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { AbortError, Prompt2ModelError, stopWithParent, type TrainingEvent } from '@prompt2model/core/internal';
import { parseEventLine } from './events.js';

export interface WorkerProcessOptions {
  /** Executable and arguments; with `shell`, `command` is a shell command line and `args` is ignored. */
  command: string;
  args?: string[];
  shell?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting sends SIGINT (the worker checkpoints and exits), then SIGTERM, then SIGKILL. */
  signal?: AbortSignal;
  /** How long the worker gets to checkpoint after SIGINT before SIGTERM. Default 60 s. */
  cancelGraceMs?: number;
  /** How long a worker that reported `done` may take to exit once the consumer stops reading (default 10 s). */
  exitGraceMs?: number;
  /** Hint shown when the executable is not found. */
  notFoundHint?: string;
  /** What the process is, in messages (default `training worker`). */
  label?: string;
  /** Message of the AbortError thrown after a cancel (default: the training worker saved its last checkpoint). */
  cancelledMessage?: string;
  /** Reads one stdout line (default `parseEventLine`): e.g. strips the prefix a log follower adds. */
  parseLine?: (line: string) => TrainingEvent | undefined;
  /**
   * Yield an `error` event when the process exits without `done` or `error` (default true). Off for
   * a log follower whose end says nothing about the job: the caller asks the job's status instead.
   */
  reportIncomplete?: boolean;
  /**
   * Send the cancel's first SIGINT to the worker alone, not its process group: for a worker whose
   * group holds services it stops itself after the checkpoint (a Ray driver and the local cluster
   * it started). SIGTERM and SIGKILL after the grace still go to the whole group.
   */
  interruptLeaderOnly?: boolean;
}

/** What the stream ends with besides events: how the process exited. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Detached workers get their own process group; make sure none outlives us. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGTERM');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Runs a process that speaks the worker protocol (JSON lines on stdout) and yields its events as
 * they arrive. When the process exits without a `done` or `error` event, an `error` event carrying
 * the exit status and the end of stderr is yielded. On abort the process is stopped cleanly and the
 * stream throws AbortError after it has exited (so its last checkpoint is on disk).
 */
export async function* runWorkerProcess(options: WorkerProcessOptions): AsyncGenerator<TrainingEvent, WorkerExit> {
  if (options.signal?.aborted) throw new AbortError(undefined, options.signal.reason);
  installExitHook();
  const label = options.label ?? 'training worker';
  const child = options.shell
    ? spawn(options.command, { shell: true, cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(options.command, options.args ?? [], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  // A kill -9 of this process must not leave the worker running (and writing a partial folder).
  const releaseWatch = stopWithParent(child.pid);

  const queue: TrainingEvent[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stderrLines: string[] = [];
  let spawnError: NodeJS.ErrnoException | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stdoutClosed = false;

  const stdout = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  const parseLine = options.parseLine ?? parseEventLine;
  stdout.on('line', (line) => {
    const event = parseLine(line);
    if (event) {
      queue.push(event);
      notify();
    }
  });
  stdout.on('close', () => {
    stdoutClosed = true;
    notify();
  });
  const stderr = createInterface({ input: child.stderr!, crlfDelay: Infinity });
  stderr.on('line', (line) => {
    stderrLines.push(line);
    if (stderrLines.length > 40) stderrLines.shift();
  });
  child.on('error', (error) => {
    spawnError = error;
    notify();
  });
  let onExit: (() => void) | undefined;
  const exited = new Promise<void>((resolve) => (onExit = resolve));
  child.on('close', (code, signal) => {
    exit = { code, signal };
    releaseWatch();
    live.delete(child);
    onExit?.();
    notify();
  });

  let cancelled = false;
  let escalation: NodeJS.Timeout | undefined;
  const onAbort = () => {
    cancelled = true;
    if (options.interruptLeaderOnly) child.kill('SIGINT');
    else killGroup(child, 'SIGINT');
    const grace = options.cancelGraceMs ?? 60_000;
    escalation = setTimeout(() => {
      killGroup(child, 'SIGTERM');
      escalation = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      escalation.unref();
    }, grace);
    escalation.unref();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let terminal = false;
  try {
    for (;;) {
      while (queue.length > 0) {
        const event = queue.shift()!;
        if (event.type === 'done' || event.type === 'error') terminal = true;
        if (cancelled && event.type === 'error') {
          // After a cancel, the worker's own "cancelled" report is part of stopping, not a failure;
          // anything else went wrong while it stopped (its checkpoint, say), and must not go unseen.
          if (event.cancelled !== true) yield { type: 'log', level: 'warn', message: `While stopping, the ${label} failed: ${event.message}` };
          continue;
        }
        yield event;
      }
      if (spawnError) {
        live.delete(child);
        if (spawnError.code === 'ENOENT') {
          throw new Prompt2ModelError({
            message: `Cannot start the ${label}: "${options.command}" was not found.`,
            hint: options.notFoundHint ?? 'Install it or pass the full path.',
            cause: spawnError,
          });
        }
        throw new Prompt2ModelError({ message: `Cannot start the ${label}: ${spawnError.message}`, cause: spawnError });
      }
      if (exit && stdoutClosed && queue.length === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (escalation) clearTimeout(escalation);
    // The consumer stopped reading. After `done` the worker is finishing on its own (flushing
    // files, tearing down other ranks): give it a moment. Otherwise (or if it lingers, like a
    // `tail -F` attach) stop it: a worker never runs on unobserved.
    if (!exit) {
      if (terminal && !spawnError) {
        const grace = new Promise<void>((resolve) => setTimeout(resolve, options.exitGraceMs ?? 10_000).unref());
        await Promise.race([exited, grace]);
      }
      if (!exit) {
        killGroup(child, 'SIGINT');
        live.delete(child);
      }
    }
  }
  const result: WorkerExit = { ...exit!, stderrTail: stderrLines.join('\n') };
  if (cancelled) throw new AbortError(options.cancelledMessage ?? 'Training was cancelled; the worker saved its last checkpoint.', options.signal?.reason);
  if (!terminal && options.reportIncomplete !== false) {
    const status = exit!.signal ? `signal ${exit!.signal}` : `exit code ${exit!.code}`;
    yield {
      type: 'error',
      message: `The ${label} stopped (${status}) without reporting done.${result.stderrTail ? `\n${lastLines(result.stderrTail, 15)}` : ''}`,
      exitCode: exit!.code,
    };
  }
  return result;
}

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n');
}

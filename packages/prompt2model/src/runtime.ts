import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
// Light entries of core only (no zod): the CLI starts without loading the stage packages.
import {
  AbortError,
  APICallError,
  BudgetExceededError,
  InvalidArgumentError,
  LoadSettingError,
  NoSuchEntryError,
  Prompt2ModelError,
  ValidationError,
  redactSecrets,
} from '@prompt2model/core/errors';
import { ProgressEmitter } from '@prompt2model/core/events';
import type { LanguageModel, RequestSchedulerOptions, StageContext } from '@prompt2model/core/internal';
import { CliUsageError } from './cli-usage-error.js';
import { withCliFlags } from './error-flags.js';
import { attachProgressRenderer } from './progress.js';

/** Options every verb accepts (declared once on the program). */
export interface GlobalOptions {
  out?: string;
  teacher: string;
  baseUrl?: string;
  maxCost?: number;
  json: boolean;
  verbose: boolean;
  rpm?: number;
  tpm?: number;
  concurrency?: number;
  /** Seconds to wait for a teacher answer's headers (--first-byte-timeout). */
  firstByteTimeout?: number;
  /** Seconds to wait for a whole teacher answer (--request-timeout). */
  requestTimeout?: number;
}

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is an interactive terminal (progress bars) or not (plain log lines). */
  isTTY: boolean;
  /** The terminal stream progress bars draw on (process.stderr in the CLI). */
  stderrStream?: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/** Exit codes: 0 ok, 1 failure, 2 bad input or usage, 3 budget cap reached, 130 cancelled. */
export const EXIT = { ok: 0, failure: 1, usage: 2, budget: 3, cancelled: 130 } as const;

export { CliUsageError } from './cli-usage-error.js';

/** A new empty folder in the system's temporary folder (a server's run folder when none is given). */
export function temporaryFolder(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** What the first Ctrl-C prints unless the verb says otherwise: run folder verbs resume where they stopped. */
export const RESUMABLE_INTERRUPT_NOTICE = 'Stopping… finished work is saved; rerun the same command to resume.';

/**
 * What a verb gets: parsed global options, a way to build the run context (teacher, scheduler,
 * cache, run folder, progress rendering), output helpers, and error handling.
 */
export class CliRuntime {
  private readonly controller = new AbortController();
  private readonly cleanups: Array<() => void> = [];
  exitCode: number = EXIT.ok;
  private readonly interruptNotices = new WeakMap<Command, string>();
  private running: Command | undefined;

  constructor(readonly io: CliIO) {}

  /** Aborted on Ctrl-C (SIGINT/SIGTERM in the CLI). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  /** Declares what the first Ctrl-C prints while `command` runs, for a verb that is not resumed (a server). */
  onInterrupt(command: Command, notice: string): Command {
    this.interruptNotices.set(command, notice);
    return command;
  }

  /** What the first Ctrl-C prints while `command` runs. */
  interruptNotice(command: Command | undefined): string {
    return (command && this.interruptNotices.get(command)) ?? RESUMABLE_INTERRUPT_NOTICE;
  }

  /** Records the verb about to run (the program's preAction hook). */
  setRunningCommand(command: Command): void {
    this.running = command;
  }

  /** The first Ctrl-C: says what stopping means for the running verb, then cancels it. */
  interrupt(): void {
    this.io.stderr(`\n${this.interruptNotice(this.running)} (Ctrl-C again to force.)\n`);
    this.abort(new Error('interrupted'));
  }

  /** The global options merged with the verb's own. */
  options<T extends object>(command: Command): GlobalOptions & T {
    return command.optsWithGlobals() as GlobalOptions & T;
  }

  /** The teacher LanguageModel from --teacher (`openai:<id>`, `hf:<id>`, a bare id) / --base-url, through the model registry. */
  async teacherModel(options: GlobalOptions): Promise<LanguageModel> {
    const { createModelRegistry } = await import('./registry/model-providers.js');
    return createModelRegistry({ openai: options.baseUrl ? { baseURL: options.baseUrl } : {}, env: this.io.env }).languageModel(options.teacher);
  }

  /** The setting the teacher's provider lacks (`hf:` models need HF_TOKEN, OpenAI's API a key), if any. */
  async missingTeacherSetting(options: GlobalOptions): Promise<import('./registry/model-providers.js').MissingProviderSetting | undefined> {
    const { missingProviderSetting } = await import('./registry/model-providers.js');
    return missingProviderSetting(options.teacher, { openai: options.baseUrl ? { baseURL: options.baseUrl } : {}, env: this.io.env });
  }

  /**
   * Opens the run folder (`--out`, or a temporary one) and wires teacher, scheduler, cache, cost
   * ledger and progress rendering. `teacher: false` for verbs that need no LLM.
   */
  async createContext(
    options: GlobalOptions,
    settings: { teacher?: boolean; config?: Record<string, unknown>; outDir?: string } = {},
  ): Promise<StageContext> {
    const outDir = settings.outDir ?? options.out ?? (await mkdtemp(join(tmpdir(), 'prompt2model-')));
    const { createStageContext, defaultLLMCacheDir } = await import('@prompt2model/core/internal');
    return createStageContext({
      outDir,
      events: this.progressEvents(options),
      signal: this.signal,
      ...(settings.teacher === false ? {} : { teacher: await this.teacherModel(options) }),
      ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
      scheduler: this.schedulerOptions(options),
      // One LLM cache in the user's cache folder for every verb and run folder.
      cacheDir: defaultLLMCacheDir(this.io.env),
      config: { teacher: options.teacher, ...settings.config },
    });
  }

  /**
   * The checks every verb that calls the teacher makes before its first paid call (`run` adds its
   * own): the teacher answers a free request within the first-byte bound, the run folder is writable.
   * A failure exits 2 with one line naming the URL.
   */
  async preflight(options: GlobalOptions, teacher: LanguageModel, extra: Array<import('./run/preflight.js').PreflightCheck> = []): Promise<void> {
    const preflight = await import('./run/preflight.js');
    const missing = await this.missingTeacherSetting(options);
    const checks = [preflight.teacherCheck(teacher, { ...preflight.preflightTimeout(options), ...(missing ? { missing } : {}) }), ...extra];
    if (options.out) checks.unshift(preflight.outputFolderCheck(options.out));
    await preflight.runPreflight(checks, this.signal);
  }

  /** A progress emitter rendered on stderr (bars on a TTY, plain lines otherwise) until the verb ends. */
  progressEvents(options: GlobalOptions): ProgressEmitter {
    const events = new ProgressEmitter();
    this.cleanups.push(attachProgressRenderer(events, { io: this.io, json: options.json, verbose: options.verbose }));
    return events;
  }

  /** Scheduler budgets from --rpm, --tpm and --concurrency; bounds from --first-byte-timeout and --request-timeout. */
  schedulerOptions(options: GlobalOptions): RequestSchedulerOptions {
    return {
      ...(options.firstByteTimeout !== undefined ? { firstByteTimeoutMs: Math.round(options.firstByteTimeout * 1000) } : {}),
      ...(options.requestTimeout !== undefined ? { timeoutMs: Math.round(options.requestTimeout * 1000) } : {}),
      ...(options.rpm !== undefined ? { requestsPerMinute: options.rpm } : {}),
      ...(options.tpm !== undefined ? { tokensPerMinute: options.tpm } : {}),
      ...(options.concurrency !== undefined ? { maxConcurrency: options.concurrency } : {}),
    };
  }

  /** Resolves on Ctrl-C (the verb's signal) or when `closed` settles: how a server verb waits. */
  untilInterrupted(closed: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve();
      this.signal.addEventListener('abort', () => resolve(), { once: true });
      void closed.then(resolve);
    });
  }

  /** Prints a result: JSON with --json, else the human text. Progress rendering stops first, so bars never land after it. */
  print(options: GlobalOptions, result: unknown, human: string | (() => string)): void {
    this.finish();
    if (options.json) this.io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    else this.io.stdout(`${typeof human === 'function' ? human() : human}\n`);
  }

  /** Wraps a verb's action: runs it, maps errors to a message on stderr and an exit code. */
  action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      try {
        await fn(...args);
      } catch (error) {
        this.fail(error, args.at(-1) as Command | undefined);
      } finally {
        this.finish();
      }
    };
  }

  /** Stops progress rendering (bars are cleared before the final output). */
  finish(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  fail(error: unknown, command?: Command): void {
    this.finish();
    const json = Boolean(command?.optsWithGlobals?.().json);
    const verbose = Boolean(command?.optsWithGlobals?.().verbose);
    this.exitCode = exitCodeFor(error, this.signal.aborted);
    // Library errors name options (`maxCostUsd`); the CLI reports its flags (--max-cost).
    const message = withCliFlags(redactSecrets(error instanceof Error ? error.message : String(error)));
    const rawHint = Prompt2ModelError.isInstance(error) ? error.hint : undefined;
    const hint = rawHint === undefined ? undefined : withCliFlags(redactSecrets(rawHint));
    if (json) {
      this.io.stderr(`${JSON.stringify({ error: { name: (error as Error)?.name ?? 'Error', message, ...(hint ? { hint } : {}) } })}\n`);
    } else {
      this.io.stderr(`error: ${message}\n`);
      if (hint) this.io.stderr(`hint: ${hint}\n`);
      if (verbose && error instanceof Error && error.stack) this.io.stderr(`${redactSecrets(error.stack)}\n`);
    }
  }
}

function exitCodeFor(error: unknown, aborted: boolean): number {
  if (aborted || AbortError.isInstance(error)) return EXIT.cancelled;
  if (BudgetExceededError.isInstance(error)) return EXIT.budget;
  if (
    ValidationError.isInstance(error) ||
    InvalidArgumentError.isInstance(error) ||
    LoadSettingError.isInstance(error) ||
    NoSuchEntryError.isInstance(error) ||
    CliUsageError.isInstance(error)
  ) {
    return EXIT.usage;
  }
  if (APICallError.isInstance(error) && error.isConfigurationError) return EXIT.usage;
  if (Prompt2ModelError.isInstance(error) && error.exitCategory === 'configuration') return EXIT.usage;
  return EXIT.failure;
}

/** Parses sizes like `3GB`, `500MB`, `1.5GiB`, or plain bytes. */
export function parseSize(text: string): number {
  const match = /^\s*([\d.]+)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!match) throw new CliUsageError(`Not a size: "${text}"`, 'Use a number with a unit, e.g. 3GB, 500MB or 24GiB.');
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  const powers: Record<string, number> = { '': 0, b: 0, k: 1, kb: 1, kib: 1, m: 2, mb: 2, mib: 2, g: 3, gb: 3, gib: 3, t: 4, tb: 4, tib: 4 };
  const power = powers[unit];
  if (power === undefined || !Number.isFinite(value)) throw new CliUsageError(`Not a size: "${text}"`, 'Use e.g. 3GB, 500MB or 24GiB.');
  const base = unit.includes('i') ? 1024 : 1000;
  return Math.round(value * base ** power);
}

/** Parses a positive number option, with a clear message. */
export function parseNumber(name: string, { integer = false, min = 0, max = Infinity } = {}): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new CliUsageError(`${name} must be ${integer ? 'an integer' : 'a number'} ${range}, got "${value}"`);
    }
    return n;
  };
}

/** Most examples a run may aim for without a --max-cost cap: past it a typo (an extra zero) could cost real money. */
export const MAX_EXAMPLES_WITHOUT_CAP = 10_000;

/** A large --num-examples needs a budget cap, so a typo never turns into an open-ended bill. */
export function checkExampleTarget(options: { numExamples: number; maxCost?: number }): void {
  if (options.numExamples > MAX_EXAMPLES_WITHOUT_CAP && options.maxCost === undefined) {
    throw new CliUsageError(
      `--num-examples ${options.numExamples} is more than ${MAX_EXAMPLES_WITHOUT_CAP.toLocaleString('en-US')} without a budget cap.`,
      'Pass --max-cost USD to cap what the teacher may cost (see the estimate first: prompt2model run --estimate-only), or aim for fewer examples.',
    );
  }
}

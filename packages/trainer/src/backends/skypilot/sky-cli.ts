import { spawn } from 'node:child_process';
import { AbortError, Prompt2ModelError, stopWithParent } from '@prompt2model/core/internal';

/** One line (no hint): what to install when there is no `sky`. */
export const SKY_INSTALL_LINE = 'SkyPilot is not installed (no `sky` command): install it with pip install "skypilot[aws]" (or the extra of your cloud: gcp, azure, kubernetes, ...), then run sky check.';

export interface SkyResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  cwd?: string;
}

/** Runs `sky ...` to completion (output captured), as a child that dies with this process. */
export function runSky(sky: string, args: string[], options: RunOptions = {}): Promise<SkyResult> {
  return runCommand(sky, args, options, skyNotInstalled);
}

/** Runs a command to completion, capturing its output; a missing executable becomes `notFound`'s error. */
export function runCommand(command: string, args: string[], options: RunOptions, notFound: (cause: unknown) => Error): Promise<SkyResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortError(undefined, options.signal.reason));
      return;
    }
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const release = stopWithParent(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-20_000)));
    const onAbort = () => child.kill('SIGINT');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error: NodeJS.ErrnoException) => {
      release();
      options.signal?.removeEventListener('abort', onAbort);
      reject(error.code === 'ENOENT' ? notFound(error) : error);
    });
    child.on('close', (code) => {
      release();
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) reject(new AbortError(undefined, options.signal.reason));
      else resolve({ code, stdout, stderr });
    });
  });
}

export function skyNotInstalled(cause?: unknown): Prompt2ModelError {
  return new Prompt2ModelError({ message: SKY_INSTALL_LINE, exitCategory: 'configuration', cause });
}

/** A sky command that failed, with the end of what it printed. */
export function skyFailed(what: string, args: string[], result: SkyResult, exitCategory?: 'configuration'): Prompt2ModelError {
  const tail = stripAnsi(`${result.stderr}\n${result.stdout}`).trim().split('\n').slice(-12).join('\n');
  return new Prompt2ModelError({
    message: `sky ${args.join(' ')} failed (exit code ${result.code}) while ${what}${tail ? `:\n${tail}` : ''}`,
    hint: `Run \`sky ${args.join(' ')}\` by hand to see what is wrong (\`sky check\` tells which clouds are usable).`,
    ...(exitCategory ? { exitCategory } : {}),
  });
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

/** The id `sky jobs launch` printed ("Managed Job ID: 3", or "Job submitted, ID: 3" in older releases). */
export function parseManagedJobId(text: string): string | undefined {
  const clean = stripAnsi(text);
  return /Managed job ID:\s*(\d+)/i.exec(clean)?.[1] ?? /Job submitted,\s*ID:\s*(\d+)/i.exec(clean)?.[1];
}

/** sky/jobs/state.py ManagedJobStatus. */
export const MANAGED_JOB_STATUSES = [
  'PENDING',
  'SUBMITTED',
  'STARTING',
  'RUNNING',
  'RECOVERING',
  'CANCELLING',
  'SUCCEEDED',
  'CANCELLED',
  'FAILED',
  'FAILED_SETUP',
  'FAILED_PRECHECKS',
  'FAILED_NO_RESOURCE',
  'FAILED_CONTROLLER',
] as const;
export type ManagedJobStatus = (typeof MANAGED_JOB_STATUSES)[number];
const TERMINAL: ReadonlySet<string> = new Set(['SUCCEEDED', 'CANCELLED', 'FAILED', 'FAILED_SETUP', 'FAILED_PRECHECKS', 'FAILED_NO_RESOURCE', 'FAILED_CONTROLLER']);

export function isTerminal(status: ManagedJobStatus): boolean {
  return TERMINAL.has(status);
}

export interface QueuedJob {
  id: string;
  /** The row's cells (name, resources, times, ...), for matching a job by its name. */
  cells: string[];
  status: ManagedJobStatus;
}

/**
 * The rows of `sky jobs queue`: a table whose rows start with the job id and hold one status
 * word. Columns move between releases, so a row is read by its first cell and its status cell.
 */
export function parseJobsQueue(text: string): QueuedJob[] {
  const statuses = new Set<string>(MANAGED_JOB_STATUSES);
  const jobs: QueuedJob[] = [];
  for (const line of stripAnsi(text).split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (!cells[0] || !/^\d+$/.test(cells[0])) continue;
    const status = cells.find((cell) => statuses.has(cell));
    if (status) jobs.push({ id: cells[0], cells: cells.slice(1), status: status as ManagedJobStatus });
  }
  return jobs;
}

export interface DryRunQuote {
  /** USD an hour for all the task's nodes (the optimizer's COST column: one hour × nodes). */
  hourlyUsd: number;
  /** The chosen row: where and on what it would run. */
  infra: string;
  instance: string;
}

/**
 * The chosen row (✔) of the optimizer table `sky launch --dryrun` prints ("Considered resources
 * (N nodes):" with INFRA/CLOUD, INSTANCE, ..., COST ($), CHOSEN). Cells are separated by two or
 * more spaces (prettytable without vertical rules).
 */
export function parseDryRunQuote(text: string): DryRunQuote | undefined {
  const lines = stripAnsi(text).split('\n');
  const headerIndex = lines.findIndex((line) => line.includes('COST ($)') && line.includes('CHOSEN'));
  if (headerIndex < 0) return undefined;
  const header = lines[headerIndex]!.trim().split(/\s{2,}/);
  const costColumn = header.indexOf('COST ($)');
  const infraColumn = Math.max(header.indexOf('INFRA'), header.indexOf('CLOUD'));
  const instanceColumn = header.indexOf('INSTANCE');
  for (const line of lines.slice(headerIndex + 1)) {
    if (!line.includes('\u2714')) continue;
    const cells = line.trim().split(/\s{2,}/);
    const cost = Number.parseFloat(cells[costColumn] ?? '');
    if (!Number.isFinite(cost)) return undefined;
    return { hourlyUsd: cost, infra: cells[infraColumn] ?? '', instance: cells[instanceColumn] ?? '' };
  }
  return undefined;
}

/** `sky check` output: SkyPilot exits 0 even when no cloud is usable, so the text decides. */
export function skyCheckProblem(text: string, infra?: string): string | undefined {
  const clean = stripAnsi(text);
  const cloud = infra?.split('/')[0]?.toLowerCase();
  if (cloud && cloud !== '*') {
    const name = cloud === 'k8s' ? 'kubernetes' : cloud;
    const line = clean.split('\n').find((row) => row.toLowerCase().includes(`${name}:`));
    if (line && /disabled/i.test(line)) return `${line.trim()} in SkyPilot`;
  }
  if (/No cloud is enabled/i.test(clean)) return 'no cloud is enabled in SkyPilot';
  return undefined;
}

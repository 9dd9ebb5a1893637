import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One entry of `GET /api/jobs/hardware`, as the Hub answers it (prices per minute). */
export interface HubJobHardware {
  name: string;
  prettyName: string;
  cpu: string;
  ram: string;
  accelerator: { type: 'gpu'; model: string; quantity: string; vram: string; manufacturer: 'Nvidia' } | null;
  unitCostMicroUSD: number;
  unitCostUSD: number;
  unitLabel: 'minute';
}

/** Flavors with the Hub's published hourly list prices, billed by the minute. */
export const LOOPBACK_JOB_HARDWARE: HubJobHardware[] = [
  hardware('cpu-basic', 'CPU Basic', '2 vCPU', '16 GB', null, 0.01),
  hardware('cpu-upgrade', 'CPU Upgrade', '8 vCPU', '32 GB', null, 0.03),
  hardware('t4-small', 'Nvidia T4 - small', '4 vCPU', '15 GB', { model: 'T4', quantity: '1', vram: '16 GB' }, 0.4),
  hardware('l4x1', '1x Nvidia L4', '8 vCPU', '30 GB', { model: 'L4', quantity: '1', vram: '24 GB' }, 0.8),
  hardware('a10g-small', 'Nvidia A10G - small', '4 vCPU', '15 GB', { model: 'A10G', quantity: '1', vram: '24 GB' }, 1),
  hardware('a10g-large', 'Nvidia A10G - large', '12 vCPU', '46 GB', { model: 'A10G', quantity: '1', vram: '24 GB' }, 1.5),
  hardware('a100-large', 'Nvidia A100 - large', '12 vCPU', '142 GB', { model: 'A100', quantity: '1', vram: '80 GB' }, 2.5),
];

function hardware(name: string, prettyName: string, cpu: string, ram: string, gpu: { model: string; quantity: string; vram: string } | null, hourlyUsd: number): HubJobHardware {
  const perMinute = hourlyUsd / 60;
  return {
    name,
    prettyName,
    cpu,
    ram,
    accelerator: gpu ? { type: 'gpu', ...gpu, manufacturer: 'Nvidia' } : null,
    unitCostMicroUSD: Math.round(perMinute * 1e6),
    unitCostUSD: Number(perMinute.toFixed(6)),
    unitLabel: 'minute',
  };
}

export interface HubJobsOptions {
  /** Interpreter that stands in for the image's `python`/`python3` (the job's argv[0]). */
  python: string;
  /** Extra environment of every job process (e.g. thread caps); the job's own environment and secrets go on top. */
  env?: Record<string, string>;
  /** Default LOOPBACK_JOB_HARDWARE. */
  hardware?: HubJobHardware[];
}

export type HubJobStage = 'RUNNING' | 'COMPLETED' | 'ERROR' | 'CANCELED';

/** A job created through the loopback server, with what the client sent. */
export interface HubJobRecord {
  id: string;
  namespace: string;
  /** The create request's body as received (secrets included: tests check where they went). */
  spec: {
    dockerImage?: string;
    spaceId?: string;
    command?: string[];
    arguments?: string[];
    environment?: Record<string, string>;
    secrets?: Record<string, string>;
    flavor: string;
    timeoutSeconds?: number;
    labels?: Record<string, string>;
  };
  stage: HubJobStage;
  message: string | null;
  createdAt: string;
  finishedAt?: string;
  /** Every log line so far (stdout and stderr of the job's process). */
  logs: Array<{ data: string; timestamp: string }>;
  /** The process that runs the job; undefined once it exited. */
  process?: ChildProcess;
}

/**
 * The Jobs API of the Hub, as @huggingface/hub's jobs functions and huggingface_hub's `_jobs_api`
 * call it: `GET /api/jobs/hardware`, `POST /api/jobs/{namespace}` (run), `GET /api/jobs/{namespace}`
 * (list), `GET /api/jobs/{namespace}/{id}` (status stages RUNNING → COMPLETED / ERROR / CANCELED),
 * `POST /api/jobs/{namespace}/{id}/cancel`, and `GET /api/jobs/{namespace}/{id}/logs` (Server-Sent
 * Events, one `data: {"data": line, "timestamp": iso}` a line, opened by the Hub's
 * "===== Job started at … =====" line, replayed from the start on each request and closed when the
 * job ends). A job runs as a local process: its command with `python` mapped to `options.python`,
 * its environment and secrets as environment variables, in a fresh temporary folder.
 */
export function createHubJobs(options: HubJobsOptions) {
  const jobs = new Map<string, HubJobRecord>();
  const followers = new Map<string, Set<() => void>>();
  const folders: string[] = [];
  const list = options.hardware ?? LOOPBACK_JOB_HARDWARE;

  function wire(job: HubJobRecord, baseUrl: string): Record<string, unknown> {
    const { secrets, ...spec } = job.spec;
    return {
      type: 'job',
      id: job.id,
      status: { stage: job.stage, message: job.message, failureCount: job.stage === 'ERROR' ? 1 : 0 },
      createdAt: job.createdAt,
      startedAt: job.createdAt,
      finishedAt: job.finishedAt ?? null,
      ...spec,
      // Like the Hub: secret names only, never their values.
      secrets: Object.keys(secrets ?? {}),
      owner: { id: job.namespace, name: job.namespace, type: 'user' },
      url: `${baseUrl}/jobs/${job.namespace}/${job.id}`,
    };
  }

  function appendLog(job: HubJobRecord, data: string): void {
    job.logs.push({ data, timestamp: new Date().toISOString() });
    for (const wake of followers.get(job.id) ?? []) wake();
  }

  function finish(job: HubJobRecord, stage: HubJobStage, message: string | null): void {
    if (job.stage !== 'RUNNING') return;
    job.stage = stage;
    job.message = message;
    job.finishedAt = new Date().toISOString();
    for (const wake of followers.get(job.id) ?? []) wake();
  }

  function start(job: HubJobRecord): void {
    const [command, ...args] = [...(job.spec.command ?? []), ...(job.spec.arguments ?? [])];
    if (!command) {
      finish(job, 'ERROR', 'the job has no command');
      return;
    }
    const folder = mkdtempSync(join(tmpdir(), 'p2m-hub-job-'));
    folders.push(folder);
    const executable = command === 'python' || command === 'python3' ? options.python : command;
    const child = spawn(executable, args, {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: folder, TMPDIR: folder, ...options.env, ...job.spec.environment, ...job.spec.secrets },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    job.process = child;
    appendLog(job, `===== Job started at ${new Date().toISOString()} =====`);
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => appendLog(job, line));
    child.on('error', (error) => finish(job, 'ERROR', error.message));
    child.on('close', (code, signal) => {
      job.process = undefined;
      if (code === 0) finish(job, 'COMPLETED', null);
      else finish(job, 'ERROR', signal ? `killed by ${signal}` : `Job failed with exit code: ${code}`);
    });
  }

  function stop(job: HubJobRecord): void {
    const child = job.process;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone.
      }
    }, 5000);
    timer.unref();
  }

  function streamLogs(job: HubJobRecord, request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    let sent = 0;
    const flush = () => {
      while (sent < job.logs.length) response.write(`data: ${JSON.stringify(job.logs[sent++])}\n\n`);
      if (job.stage !== 'RUNNING') close();
    };
    const set = followers.get(job.id) ?? new Set();
    followers.set(job.id, set);
    const close = () => {
      set.delete(flush);
      if (!response.writableEnded) response.end();
    };
    set.add(flush);
    request.on('close', () => set.delete(flush));
    flush();
  }

  /** Answers a Jobs API request, or returns false when `path` is not one. */
  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    context: { baseUrl: string; body: () => Promise<Buffer>; whoami: () => string | undefined; sendJson: (response: ServerResponse, status: number, value: unknown) => void },
  ): Promise<boolean> {
    if (!path.startsWith('/api/jobs/')) return false;
    const { sendJson } = context;
    if (path === '/api/jobs/hardware' && request.method === 'GET') {
      sendJson(response, 200, list);
      return true;
    }
    const match = /^\/api\/jobs\/([^/]+)(?:\/([^/]+)(?:\/(cancel|logs))?)?$/.exec(path);
    if (!match) return false;
    const [, namespace, id, action] = match;
    const user = context.whoami();
    if (!user) {
      sendJson(response, 401, { error: 'Invalid credentials in Authorization header' });
      return true;
    }
    if (namespace !== user) {
      sendJson(response, 403, { error: `You don't have the rights to run jobs in ${namespace}` });
      return true;
    }
    if (!id) {
      if (request.method === 'GET') {
        sendJson(response, 200, [...jobs.values()].filter((job) => job.namespace === namespace).map((job) => wire(job, context.baseUrl)));
        return true;
      }
      if (request.method !== 'POST') return false;
      const spec = JSON.parse((await context.body()).toString('utf8')) as HubJobRecord['spec'];
      if (!list.some((entry) => entry.name === spec.flavor)) {
        sendJson(response, 400, { error: `Invalid flavor: ${String(spec.flavor)}` });
        return true;
      }
      if (!spec.dockerImage && !spec.spaceId) {
        sendJson(response, 400, { error: 'dockerImage or spaceId is required' });
        return true;
      }
      const job: HubJobRecord = { id: randomBytes(12).toString('hex'), namespace: namespace!, spec, stage: 'RUNNING', message: null, createdAt: new Date().toISOString(), logs: [] };
      jobs.set(job.id, job);
      start(job);
      sendJson(response, 200, wire(job, context.baseUrl));
      return true;
    }
    const job = jobs.get(id);
    if (!job || job.namespace !== namespace) {
      sendJson(response, 404, { error: 'Job not found' });
      return true;
    }
    if (action === 'cancel' && request.method === 'POST') {
      if (job.stage === 'RUNNING') {
        finish(job, 'CANCELED', null);
        stop(job);
      }
      sendJson(response, 200, wire(job, context.baseUrl));
      return true;
    }
    if (action === 'logs' && request.method === 'GET') {
      streamLogs(job, request, response);
      return true;
    }
    if (!action && request.method === 'GET') {
      sendJson(response, 200, wire(job, context.baseUrl));
      return true;
    }
    return false;
  }

  return {
    jobs,
    handle,
    close(): void {
      for (const job of jobs.values()) if (job.process) stop(job);
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    },
  };
}

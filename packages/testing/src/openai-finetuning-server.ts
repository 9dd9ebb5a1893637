import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readRequestBody } from './loopback-http.js';
import { chatUsage } from './openai-usage.js';

/** Job states of the OpenAI fine-tuning API. */
export type FineTuningJobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Faults injected by request index (every route counts), like the chat server's `faultSequence`. */
export type FineTuningFault = 'ok' | 'rate-limit' | 'server-error';

export interface OpenAIFineTuningServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Base models that can be fine-tuned; others get 400. Default: a few real ids. */
  models?: string[];
  /** Optimizer steps a job advances on each GET of the job (the simulation's clock). Default 2. */
  stepsPerPoll?: number;
  /** The job fails at this step with a server-side error. */
  failAtStep?: number;
  /** Scripted faults by request index. */
  faultSequence?: FineTuningFault[];
  /** Retry-After seconds on injected 429s. Default 0 (fast tests). */
  retryAfterSeconds?: number;
  /** Organisation id used in fine-tuned model names. Default `org-loopback`. */
  organization?: string;
}

export interface StoredFile {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  content: string;
  created_at: number;
}

export interface SimulatedJobEvent {
  id: string;
  object: 'fine_tuning.job.event';
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data?: Record<string, unknown>;
}

export interface SimulatedJob {
  id: string;
  object: 'fine_tuning.job';
  model: string;
  created_at: number;
  finished_at: number | null;
  fine_tuned_model: string | null;
  organization_id: string;
  result_files: string[];
  status: FineTuningJobStatus;
  training_file: string;
  validation_file: string | null;
  trained_tokens: number | null;
  seed: number;
  error: { code: string; message: string; param: string | null } | null;
  hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number };
  method: { type: 'supervised'; supervised: { hyperparameters: { n_epochs: number; batch_size: number; learning_rate_multiplier: number } } };
  suffix: string | null;
  estimated_finish: number | null;
  /** Simulation state (not part of the API's job object; stripped from responses). */
  step: number;
  totalSteps: number;
  events: SimulatedJobEvent[];
}

export interface OpenAIFineTuningServerStats {
  requests: number;
  /** Requests by `METHOD route`, e.g. `POST /v1/files`. */
  byRoute: Record<string, number>;
  byStatus: Record<number, number>;
  faultsInjected: number;
  /** Idempotency keys seen on job creation, and how often each was replayed. */
  idempotentReplays: number;
}

export interface OpenAIFineTuningServer {
  /** Base URL for clients, ending in `/v1`. */
  url: string;
  port: number;
  stats: OpenAIFineTuningServerStats;
  files: Map<string, StoredFile>;
  jobs: Map<string, SimulatedJob>;
  close(): Promise<void>;
}

const DEFAULT_MODELS = ['gpt-4o-mini-2024-07-18', 'gpt-4o-2024-08-06', 'gpt-4.1-mini-2025-04-14', 'gpt-4.1-nano-2025-04-14', 'gpt-3.5-turbo'];

/**
 * A loopback server speaking the OpenAI files and fine-tuning endpoints: multipart file upload,
 * job create/retrieve/list/cancel and the job's event list (newest first, cursor pagination with
 * `after`). Jobs validate their training file like the real service (chat rows with an assistant
 * answer) and advance `stepsPerPoll` steps each time they are retrieved, emitting `metrics` events,
 * so a poller sees validating → queued → running → succeeded deterministically.
 */
export async function startOpenAIFineTuningServer(options: OpenAIFineTuningServerOptions = {}): Promise<OpenAIFineTuningServer> {
  const files = new Map<string, StoredFile>();
  const jobs = new Map<string, SimulatedJob>();
  const idempotency = new Map<string, string>();
  const stats: OpenAIFineTuningServerStats = { requests: 0, byRoute: {}, byStatus: {}, faultsInjected: 0, idempotentReplays: 0 };
  const models = options.models ?? DEFAULT_MODELS;
  const organization = options.organization ?? 'org-loopback';
  let requestIndex = 0;
  let counter = 0;
  let clock = 1_700_000_000;
  const nextId = (prefix: string) => `${prefix}-${(++counter).toString(36).padStart(6, '0')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const route = `${req.method} ${path.replace(/(file|ftjob)-[a-z0-9]+/g, ':id')}`;
    stats.requests++;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    const index = requestIndex++;
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return send(res, stats, 401, errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    const fault = options.faultSequence?.[index];
    if (fault === 'rate-limit') {
      stats.faultsInjected++;
      return send(res, stats, 429, errorBody('Rate limit reached (injected).', 'requests', 'rate_limit_exceeded'), {
        'retry-after': String(options.retryAfterSeconds ?? 0),
      });
    }
    if (fault === 'server-error') {
      stats.faultsInjected++;
      return send(res, stats, 500, errorBody('The server had an error (injected).', 'server_error'));
    }

    if (req.method === 'POST' && path === '/v1/files') {
      const body = (await readRequestBody(req)).toString('utf8');
      const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData().catch(() => undefined);
      const file = form?.get('file');
      const purpose = form?.get('purpose');
      if (!form || !file || typeof file === 'string' || typeof purpose !== 'string') {
        return send(res, stats, 400, errorBody("Expected multipart form data with 'file' and 'purpose'.", 'invalid_request_error', null, 'file'));
      }
      const content = await file.text();
      const stored: StoredFile = { id: nextId('file'), filename: file.name, purpose, bytes: Buffer.byteLength(content), content, created_at: clock++ };
      files.set(stored.id, stored);
      return send(res, stats, 200, fileObject(stored));
    }
    let match = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (req.method === 'GET' && match) {
      const stored = files.get(match[1]!);
      if (!stored) return send(res, stats, 404, errorBody(`No such File object: ${match[1]}`, 'invalid_request_error', null, 'id'));
      if (match[2]) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        stats.byStatus[200] = (stats.byStatus[200] ?? 0) + 1;
        res.end(stored.content);
        return;
      }
      return send(res, stats, 200, fileObject(stored));
    }

    if (req.method === 'POST' && path === '/v1/fine_tuning/jobs') {
      const body = JSON.parse((await readRequestBody(req)).toString('utf8')) as Record<string, unknown>;
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string' && idempotency.has(key)) {
        stats.idempotentReplays++;
        return send(res, stats, 200, publicJob(jobs.get(idempotency.get(key)!)!));
      }
      const model = body.model;
      if (typeof model !== 'string' || !models.includes(model)) {
        return send(res, stats, 400, errorBody(`Model ${String(model)} is not available for fine-tuning or does not exist.`, 'invalid_request_error', 'model_not_available', 'model'));
      }
      const training = typeof body.training_file === 'string' ? files.get(body.training_file) : undefined;
      if (!training) {
        return send(res, stats, 400, errorBody(`invalid training_file: ${String(body.training_file)}`, 'invalid_request_error', null, 'training_file'));
      }
      if (training.purpose !== 'fine-tune') {
        return send(res, stats, 400, errorBody(`File ${training.id} has purpose ${training.purpose}, expected fine-tune.`, 'invalid_request_error', null, 'training_file'));
      }
      const validationId = typeof body.validation_file === 'string' ? body.validation_file : null;
      if (validationId && !files.has(validationId)) {
        return send(res, stats, 400, errorBody(`invalid validation_file: ${validationId}`, 'invalid_request_error', null, 'validation_file'));
      }
      const method = body.method as { type?: string; supervised?: { hyperparameters?: Record<string, unknown> } } | undefined;
      const hyper = method?.supervised?.hyperparameters ?? (body.hyperparameters as Record<string, unknown> | undefined) ?? {};
      const nEpochs = typeof hyper.n_epochs === 'number' ? hyper.n_epochs : 3;
      const batchSize = typeof hyper.batch_size === 'number' ? hyper.batch_size : 1;
      const lrm = typeof hyper.learning_rate_multiplier === 'number' ? hyper.learning_rate_multiplier : 1.8;
      const rows = training.content.split('\n').filter((line) => line.trim() !== '').length;
      const hyperparameters = { n_epochs: nEpochs, batch_size: batchSize, learning_rate_multiplier: lrm };
      const job: SimulatedJob = {
        id: nextId('ftjob'),
        object: 'fine_tuning.job',
        model,
        created_at: clock++,
        finished_at: null,
        fine_tuned_model: null,
        organization_id: organization,
        result_files: [],
        status: 'validating_files',
        training_file: training.id,
        validation_file: validationId,
        trained_tokens: null,
        seed: typeof body.seed === 'number' ? body.seed : 42,
        error: null,
        hyperparameters,
        method: { type: 'supervised', supervised: { hyperparameters } },
        suffix: typeof body.suffix === 'string' ? body.suffix : null,
        estimated_finish: null,
        step: 0,
        totalSteps: Math.max(1, Math.ceil(rows / batchSize) * nEpochs),
        events: [],
      };
      addEvent(job, 'info', `Validating training file: ${training.id}`);
      jobs.set(job.id, job);
      if (typeof key === 'string') idempotency.set(key, job.id);
      return send(res, stats, 200, publicJob(job));
    }
    if (req.method === 'GET' && path === '/v1/fine_tuning/jobs') {
      const list = [...jobs.values()].reverse().map(publicJob);
      return send(res, stats, 200, { object: 'list', data: list, has_more: false });
    }
    match = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel)?$/.exec(path);
    if (match) {
      const job = jobs.get(match[1]!);
      if (!job) return send(res, stats, 404, errorBody(`Could not find fine-tune job: ${match[1]}`, 'invalid_request_error', null, 'fine_tune_id'));
      if (req.method === 'GET' && !match[2]) {
        advance(job);
        return send(res, stats, 200, publicJob(job));
      }
      if (req.method === 'GET' && match[2] === '/events') {
        const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20));
        const after = url.searchParams.get('after');
        // Newest first; `after` continues with events older than the given one.
        const newestFirst = [...job.events].reverse();
        const start = after ? newestFirst.findIndex((event) => event.id === after) + 1 : 0;
        const page = newestFirst.slice(start, start + limit);
        return send(res, stats, 200, { object: 'list', data: page, has_more: start + limit < newestFirst.length });
      }
      if (req.method === 'POST' && match[2] === '/cancel') {
        if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
          return send(res, stats, 400, errorBody(`Job ${job.id} has already ${job.status === 'cancelled' ? 'been cancelled' : 'finished'}.`, 'invalid_request_error'));
        }
        job.status = 'cancelled';
        job.finished_at = clock++;
        addEvent(job, 'info', 'Fine-tuning job cancelled');
        return send(res, stats, 200, publicJob(job));
      }
    }
    return send(res, stats, 404, errorBody(`No route for ${req.method} ${path}`, 'invalid_request_error'));
  }

  function addEvent(job: SimulatedJob, level: SimulatedJobEvent['level'], message: string, data?: Record<string, unknown>): void {
    job.events.push({ id: nextId('ftevent'), object: 'fine_tuning.job.event', created_at: clock++, level, message, type: data ? 'metrics' : 'message', ...(data ? { data } : {}) });
  }

  /** One tick of the simulation, run on each retrieve. */
  function advance(job: SimulatedJob): void {
    switch (job.status) {
      case 'validating_files': {
        const problem = validateChatFile(files.get(job.training_file)!.content);
        if (problem) {
          job.status = 'failed';
          job.finished_at = clock++;
          job.error = { code: 'invalid_training_file', message: `The job failed due to an invalid training file. ${problem}`, param: 'training_file' };
          addEvent(job, 'error', job.error.message);
          return;
        }
        job.status = 'queued';
        addEvent(job, 'info', 'Files validated, moving job to queued state');
        return;
      }
      case 'queued':
        job.status = 'running';
        addEvent(job, 'info', `Fine-tuning job started`);
        return;
      case 'running': {
        const steps = options.stepsPerPoll ?? 2;
        for (let i = 0; i < steps && job.step < job.totalSteps; i++) {
          job.step++;
          if (options.failAtStep !== undefined && job.step >= options.failAtStep) {
            job.status = 'failed';
            job.finished_at = clock++;
            job.error = { code: 'server_error', message: 'The job failed due to an internal error.', param: null };
            addEvent(job, 'error', job.error.message);
            return;
          }
          const data: Record<string, unknown> = {
            step: job.step,
            total_steps: job.totalSteps,
            train_loss: 2 / job.step,
            train_mean_token_accuracy: Math.min(1, job.step / job.totalSteps),
          };
          if (job.validation_file) data.valid_loss = 2.2 / job.step;
          addEvent(job, 'info', `Step ${job.step}/${job.totalSteps}: training loss=${(2 / job.step).toFixed(4)}`, data);
        }
        if (job.step >= job.totalSteps) {
          const content = files.get(job.training_file)!.content;
          job.status = 'succeeded';
          job.finished_at = clock++;
          job.trained_tokens = trainingFileTokens(job.model, content) * job.hyperparameters.n_epochs;
          job.fine_tuned_model = `ft:${job.model}:${organization}:${job.suffix ?? ''}:${job.id.slice(-6)}`;
          addEvent(job, 'info', `New fine-tuned model created: ${job.fine_tuned_model}`);
          addEvent(job, 'info', 'The job has successfully completed');
        }
        return;
      }
      default:
        return;
    }
  }

  const server = await listenOnLoopback(handle, (error, res) => send(res, stats, 500, errorBody((error as Error).message, 'server_error')));
  return {
    url: `${server.origin}/v1`,
    port: server.port,
    stats,
    files,
    jobs,
    close: () => server.close(),
  };
}

/** The checks the real service runs in `validating_files`: each line a chat with an assistant answer. */
export function validateChatFile(content: string): string | undefined {
  const lines = content.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 10) return `Training file has ${lines.length} example(s), but must have at least 10 examples.`;
  for (const [i, line] of lines.entries()) {
    let row: { messages?: Array<{ role?: unknown; content?: unknown }> };
    try {
      row = JSON.parse(line) as typeof row;
    } catch {
      return `Line ${i + 1} is not valid JSON.`;
    }
    if (!Array.isArray(row.messages) || row.messages.length === 0) return `Line ${i + 1} has no 'messages'.`;
    if (!row.messages.some((m) => m.role === 'assistant' && typeof m.content === 'string' && m.content !== '')) {
      return `Line ${i + 1} has no assistant message.`;
    }
  }
  return undefined;
}

function fileObject(file: StoredFile) {
  return { id: file.id, object: 'file', bytes: file.bytes, created_at: file.created_at, filename: file.filename, purpose: file.purpose, status: 'processed' };
}

function publicJob(job: SimulatedJob) {
  const { step: _step, totalSteps: _total, events: _events, suffix: _suffix, ...rest } = job;
  return rest;
}

function errorBody(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function send(res: ServerResponse, stats: OpenAIFineTuningServerStats, status: number, body: unknown, headers: Record<string, string> = {}): void {
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Tokens of a chat fine-tuning file as OpenAI counts them (each example's messages, the real BPE). */
function trainingFileTokens(model: string, content: string): number {
  let total = 0;
  for (const line of content.split('\n')) {
    if (!line.trim()) continue;
    const example = JSON.parse(line) as { messages?: Array<{ role: string; content: string }> };
    total += chatUsage(model, example.messages ?? [], []).prompt_tokens;
  }
  return total;
}

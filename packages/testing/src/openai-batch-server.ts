import { seededRandom } from '@prompt2model/core/internal';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readRequestBody } from './loopback-http.js';
import { chatUsage } from './openai-usage.js';
import { lastUserText, messageText, type ChatCompletionRequestBody } from './openai-server.js';

/**
 * A loopback (127.0.0.1) server for the OpenAI Batch API: `POST /v1/files` (multipart upload,
 * purpose `batch`), `POST /v1/batches`, `GET /v1/batches/:id`, `POST /v1/batches/:id/cancel` and
 * `GET /v1/files/:id/content`. Batches run their chat-completion lines through `respond` and move
 * through `validating → in_progress → finalizing → completed` as they are polled, so clients see
 * the same life cycle as on the real service, in milliseconds.
 */
export interface OpenAIBatchServerOptions {
  /** Produces one choice's text for a `/v1/chat/completions` line. Default: echoes the last user message. */
  respond?: (request: ChatCompletionRequestBody, info: { customId: string; choiceIndex: number }) => string | Promise<string>;
  /** Polls (`GET /v1/batches/:id`) a batch answers before it is completed. Default 2. */
  pollsUntilDone?: number;
  /** Lines that fail (status 500 in the error file) by custom_id, or with this probability. */
  failLines?: ((customId: string) => boolean) | number;
  /** Make batches end in this status instead of `completed` (by batch number, 0-based). */
  batchOutcome?: (batchIndex: number) => 'completed' | 'failed' | 'expired';
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface OpenAIBatchServerStats {
  filesUploaded: number;
  batchesCreated: number;
  polls: number;
  /** Chat-completion lines answered across all batches. */
  linesCompleted: number;
  linesFailed: number;
}

export interface OpenAIBatchServer {
  /** Base URL for clients, ending in `/v1`. */
  url: string;
  stats: OpenAIBatchServerStats;
  /** Uploaded input files by id (their JSONL text). */
  files: Map<string, { purpose: string; filename: string; content: string }>;
  batches: Map<string, BatchRecord>;
  close(): Promise<void>;
}

interface BatchRecord {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: null | { object: 'list'; data: Array<{ code: string; message: string; line: number | null; param: string | null }> };
  input_file_id: string;
  completion_window: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  polls: number;
  index: number;
}

export async function startOpenAIBatchServer(options: OpenAIBatchServerOptions = {}): Promise<OpenAIBatchServer> {
  const stats: OpenAIBatchServerStats = { filesUploaded: 0, batchesCreated: 0, polls: 0, linesCompleted: 0, linesFailed: 0 };
  const files = new Map<string, { purpose: string; filename: string; content: string }>();
  const batches = new Map<string, BatchRecord>();
  let fileCounter = 0;
  let batchCounter = 0;
  let failRandom = seededRandom(7);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]!;
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    const body = await readRequestBody(req);
    if (req.method === 'POST' && path === '/v1/files') return uploadFile(req, res, body);
    if (req.method === 'POST' && path === '/v1/batches') return createBatch(res, body);
    let match = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && match) return pollBatch(res, match[1]!);
    match = /^\/v1\/batches\/([^/]+)\/cancel$/.exec(path);
    if (req.method === 'POST' && match) return cancelBatch(res, match[1]!);
    match = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (req.method === 'GET' && match) {
      const file = files.get(match[1]!);
      if (!file) return sendError(res, 404, `No such File object: ${match[1]}`, 'invalid_request_error');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(file.content);
      return;
    }
    return sendError(res, 404, `No route for ${req.method} ${path}`, 'invalid_request_error');
  }

  async function uploadFile(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    // Node's fetch implementation parses multipart bodies for us.
    const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    const file = form.get('file');
    const purpose = String(form.get('purpose') ?? '');
    if (!file || typeof file === 'string') return sendError(res, 400, "'file' is required.", 'invalid_request_error', null, 'file');
    if (purpose !== 'batch') return sendError(res, 400, `Unsupported purpose for this server: ${purpose}`, 'invalid_request_error', null, 'purpose');
    const content = await file.text();
    const id = `file-loopback${++fileCounter}`;
    files.set(id, { purpose, filename: file.name, content });
    stats.filesUploaded++;
    sendJson(res, 200, { id, object: 'file', bytes: Buffer.byteLength(content), created_at: now(), filename: file.name, purpose, status: 'processed' });
  }

  function createBatch(res: ServerResponse, body: Buffer): void {
    const params = JSON.parse(body.toString('utf8')) as { input_file_id?: string; endpoint?: string; completion_window?: string; metadata?: Record<string, string> };
    const input = params.input_file_id ? files.get(params.input_file_id) : undefined;
    if (!input) return sendError(res, 400, `No such File object: ${params.input_file_id}`, 'invalid_request_error', null, 'input_file_id');
    if (params.endpoint !== '/v1/chat/completions') return sendError(res, 400, 'Only /v1/chat/completions is supported here.', 'invalid_request_error', null, 'endpoint');
    const lines = input.content.split('\n').filter((line) => line.trim() !== '');
    const id = `batch_loopback${++batchCounter}`;
    const record: BatchRecord = {
      id,
      object: 'batch',
      endpoint: params.endpoint,
      errors: null,
      input_file_id: params.input_file_id!,
      completion_window: params.completion_window ?? '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: now(),
      in_progress_at: null,
      expires_at: now() + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: lines.length, completed: 0, failed: 0 },
      metadata: params.metadata ?? null,
      polls: 0,
      index: batchCounter - 1,
    };
    batches.set(id, record);
    stats.batchesCreated++;
    sendJson(res, 200, publicBatch(record));
  }

  async function pollBatch(res: ServerResponse, id: string): Promise<void> {
    const record = batches.get(id);
    if (!record) return sendError(res, 404, `No batch found with id '${id}'.`, 'invalid_request_error');
    stats.polls++;
    record.polls++;
    const until = options.pollsUntilDone ?? 2;
    if (record.status === 'validating' || record.status === 'in_progress' || record.status === 'finalizing') {
      if (record.polls >= until) await finish(record);
      else record.status = record.polls === 1 ? 'in_progress' : 'finalizing';
      if (record.status === 'in_progress' && record.in_progress_at === null) record.in_progress_at = now();
    }
    sendJson(res, 200, publicBatch(record));
  }

  function cancelBatch(res: ServerResponse, id: string): void {
    const record = batches.get(id);
    if (!record) return sendError(res, 404, `No batch found with id '${id}'.`, 'invalid_request_error');
    if (record.status !== 'completed' && record.status !== 'failed' && record.status !== 'expired') {
      record.status = 'cancelled';
      record.cancelled_at = now();
    }
    sendJson(res, 200, publicBatch(record));
  }

  async function finish(record: BatchRecord): Promise<void> {
    const outcome = options.batchOutcome?.(record.index) ?? 'completed';
    if (outcome === 'failed') {
      record.status = 'failed';
      record.failed_at = now();
      record.errors = { object: 'list', data: [{ code: 'invalid_request', message: 'Batch failed (injected).', line: null, param: null }] };
      return;
    }
    const input = files.get(record.input_file_id)!;
    const lines = input.content.split('\n').filter((line) => line.trim() !== '');
    // An expired batch finished only its first half, as real expiries leave partial results.
    const toRun = outcome === 'expired' ? lines.slice(0, Math.floor(lines.length / 2)) : lines;
    const output: string[] = [];
    const errors: string[] = [];
    for (const line of toRun) {
      const item = JSON.parse(line) as { custom_id: string; method: string; url: string; body: ChatCompletionRequestBody };
      const fail = typeof options.failLines === 'function' ? options.failLines(item.custom_id) : failRandom() < (options.failLines ?? 0);
      if (fail) {
        errors.push(
          JSON.stringify({
            id: `batch_req_${item.custom_id}`,
            custom_id: item.custom_id,
            response: { status_code: 500, request_id: `req_${item.custom_id}`, body: { error: { message: 'The server had an error (injected).', type: 'server_error' } } },
            error: null,
          }),
        );
        record.request_counts.failed++;
        stats.linesFailed++;
        continue;
      }
      const n = item.body.n ?? 1;
      const texts: string[] = [];
      for (let choiceIndex = 0; choiceIndex < n; choiceIndex++) {
        texts.push(await (options.respond ?? lastUserText)(item.body, { customId: item.custom_id, choiceIndex }));
      }
      const usage = chatUsage(item.body.model, item.body.messages.map((m) => ({ role: m.role, content: messageText(m.content) })), texts);
      output.push(
        JSON.stringify({
          id: `batch_req_${item.custom_id}`,
          custom_id: item.custom_id,
          response: {
            status_code: 200,
            request_id: `req_${item.custom_id}`,
            body: {
              id: `chatcmpl-${item.custom_id}`,
              object: 'chat.completion',
              created: now(),
              model: item.body.model,
              choices: texts.map((text, index) => ({ index, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' })),
              usage,
            },
          },
          error: null,
        }),
      );
      record.request_counts.completed++;
      stats.linesCompleted++;
    }
    if (output.length > 0) {
      record.output_file_id = `file-loopback${++fileCounter}`;
      files.set(record.output_file_id, { purpose: 'batch_output', filename: 'output.jsonl', content: `${output.join('\n')}\n` });
    }
    if (errors.length > 0) {
      record.error_file_id = `file-loopback${++fileCounter}`;
      files.set(record.error_file_id, { purpose: 'batch_output', filename: 'errors.jsonl', content: `${errors.join('\n')}\n` });
    }
    record.status = outcome;
    if (outcome === 'expired') record.expired_at = now();
    else {
      record.finalizing_at = now();
      record.completed_at = now();
    }
  }

  function sendJson(res: ServerResponse, status: number, payload: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  }

  function sendError(res: ServerResponse, status: number, message: string, type: string, code: string | null = null, param: string | null = null): void {
    sendJson(res, status, { error: { message, type, param, code } });
  }

  const server = await listenOnLoopback(handle, (error, res) => sendError(res, 500, (error as Error).message, 'server_error'));
  return {
    url: `${server.origin}/v1`,
    stats,
    files,
    batches,
    close() {
      failRandom = seededRandom(7);
      return server.close();
    },
  };
}

function publicBatch(record: BatchRecord): Omit<BatchRecord, 'polls' | 'index'> {
  const { polls: _polls, index: _index, ...rest } = record;
  return rest;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

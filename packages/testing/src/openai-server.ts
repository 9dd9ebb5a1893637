import { seededRandom } from '@prompt2model/core/internal';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readRequestBody } from './loopback-http.js';
import { chatUsage } from './openai-usage.js';

/** The request body of POST /v1/chat/completions, as the OpenAI API defines it (the fields we use). */
export interface ChatCompletionRequestBody {
  model: string;
  messages: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;
  n?: number;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  seed?: number;
  stop?: string | string[];
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  [key: string]: unknown;
}

/** Faults the server can inject instead of a normal answer. */
export type FaultKind =
  /** 429 with Retry-After (and retry-after-ms). */
  | 'rate-limit'
  /** 500 with an OpenAI-style error body. */
  | 'server-error'
  /** 503, as overloaded gateways answer. */
  | 'unavailable'
  /** 200 whose JSON body is cut off mid-way. */
  | 'truncated'
  /** A normal answer after `slowMs` (to exercise client timeouts). */
  | 'slow'
  /** Accepts the request and never answers, not even headers (a hung server; ends when the server closes). */
  | 'hang';

export interface ChatRequestInfo {
  /** 0-based index of the HTTP request since the server started (faulted ones included). */
  requestIndex: number;
  /** Which of the `n` choices is being produced. */
  choiceIndex: number;
}

export interface OpenAICompatibleServerOptions {
  /** Produces one choice's text. Default: echoes the last user message. */
  respond?: (request: ChatCompletionRequestBody, info: ChatRequestInfo) => string | Promise<string>;
  /** Delay before answering, in ms (fixed, or per request). */
  latencyMs?: number | ((request: ChatCompletionRequestBody) => number);
  /** Enforced requests-per-minute (sliding 60 s window); excess requests get 429 with Retry-After. */
  requestsPerMinute?: number;
  /**
   * Length of the sliding window the RPM limit is enforced over (default 60 000 ms). A shorter
   * window allows `requestsPerMinute * windowMs / 60000` requests in any window: the same rate,
   * but burst-sensitive, which lets a few-second test check a per-minute limit.
   */
  rateLimitWindowMs?: number;
  /** Random faults: each request faults with probability `rate`, choosing uniformly among `kinds`. */
  faults?: { rate: number; kinds?: FaultKind[]; seed?: number };
  /** Scripted faults by request index ('ok' = answer normally); takes precedence over `faults`. */
  faultSequence?: Array<FaultKind | 'ok'>;
  /** Retry-After seconds sent with injected and enforced 429s. Default 1. */
  retryAfterSeconds?: number;
  /** Delay of 'slow' faults. Default 5000 ms. */
  slowMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** When false, `response_format: json_schema` is answered with 400, as some servers do. Default true. */
  jsonSchemaSupport?: boolean;
  /** Most choices one request may ask for; more is a 400. Default 128. */
  maxN?: number;
  /** Keep request bodies in `server.requests`. Default true. */
  recordRequests?: boolean;
}

export interface OpenAICompatibleServerStats {
  /** Every HTTP request received on /v1/chat/completions. */
  requests: number;
  /** Requests answered with a completion. */
  completed: number;
  /** 429s sent because the client exceeded `requestsPerMinute` (caused by the client). */
  rateLimited: number;
  /** Faults injected on purpose (not caused by the client). */
  faultsInjected: number;
  byStatus: Record<number, number>;
  /** Most requests seen in any sliding window of `rateLimitWindowMs` (60 s by default). */
  maxRequestsInWindow: number;
  /** Arrival times (ms since epoch) of every request. */
  arrivals: number[];
  /** Arrival times of the requests answered 429 for exceeding `requestsPerMinute` (the `rateLimited` ones). */
  rateLimitedArrivals: number[];
  /**
   * Tokens of every request the server generated an answer for, as the real API bills them: a
   * request whose client went away (a cancelled CLI) still counts, since the model ran.
   */
  billed: { promptTokens: number; completionTokens: number };
}

export interface OpenAICompatibleServer {
  /** Base URL for clients, ending in `/v1` (what OPENAI_BASE_URL takes). */
  url: string;
  port: number;
  stats: OpenAICompatibleServerStats;
  requests: ChatCompletionRequestBody[];
  /** Clears stats and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A loopback (127.0.0.1) server speaking the OpenAI chat-completions protocol, for tests and
 * benchmarks: `n` choices, scripted answers, rate-limit enforcement and fault injection.
 */
export async function startOpenAICompatibleServer(options: OpenAICompatibleServerOptions = {}): Promise<OpenAICompatibleServer> {
  const stats = emptyStats();
  const requests: ChatCompletionRequestBody[] = [];
  const window: number[] = [];
  let requestIndex = 0;
  const windowMs = options.rateLimitWindowMs ?? 60_000;
  const allowedInWindow = options.requestsPerMinute ? Math.floor((options.requestsPerMinute * windowMs) / 60_000) : undefined;
  let random = seededRandom(options.faults?.seed ?? 1);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: [{ id: 'loopback-model', object: 'model', created: 0, owned_by: 'loopback' }] });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendError(res, 404, `No route for ${req.method} ${path}`, 'invalid_request_error');
    }
    const now = Date.now();
    const index = requestIndex++;
    stats.requests++;
    stats.arrivals.push(now);
    window.push(now);
    while (window.length > 0 && window[0]! <= now - windowMs) window.shift();
    stats.maxRequestsInWindow = Math.max(stats.maxRequestsInWindow, window.length);
    const bodyText = (await readRequestBody(req)).toString('utf8');
    let body: ChatCompletionRequestBody;
    try {
      body = JSON.parse(bodyText) as ChatCompletionRequestBody;
    } catch {
      return sendError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    if (options.recordRequests !== false) requests.push(body);

    const retryAfter = options.retryAfterSeconds ?? 1;
    if (allowedInWindow !== undefined && window.length > allowedInWindow) {
      // The request still counts in the window, as real rate limiters count attempts.
      stats.rateLimited++;
      stats.rateLimitedArrivals.push(now);
      const waitMs = Math.max(1, window[window.length - allowedInWindow - 1]! + windowMs - now);
      return sendError(res, 429, 'Rate limit reached for requests per min.', 'requests', 'rate_limit_exceeded', {
        'retry-after': String(Math.ceil(waitMs / 1000)),
        'retry-after-ms': String(waitMs),
      });
    }

    const fault = pickFault(index);
    if (fault && fault !== 'slow') stats.faultsInjected++;
    if (fault === 'rate-limit') {
      return sendError(res, 429, 'Rate limit reached (injected).', 'requests', 'rate_limit_exceeded', {
        'retry-after': String(retryAfter),
      });
    }
    // A hung server: the request is read, and nothing is ever sent back.
    if (fault === 'hang') return;
    if (fault === 'server-error') return sendError(res, 500, 'The server had an error (injected).', 'server_error');
    if (fault === 'unavailable') return sendError(res, 503, 'The engine is currently overloaded (injected).', 'server_error');

    const format = body.response_format?.type;
    if (format === 'json_schema' && options.jsonSchemaSupport === false) {
      return sendError(res, 400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", 'invalid_request_error', null, {}, 'response_format');
    }
    const n = body.n ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > (options.maxN ?? 128)) {
      return sendError(res, 400, `Invalid 'n': must be an integer in [1, ${options.maxN ?? 128}].`, 'invalid_request_error', null, {}, 'n');
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return sendError(res, 400, "'messages' must be a non-empty array.", 'invalid_request_error', null, {}, 'messages');
    }

    const latency = typeof options.latencyMs === 'function' ? options.latencyMs(body) : (options.latencyMs ?? 0);
    const delay = latency + (fault === 'slow' ? (options.slowMs ?? 5000) : 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const respond = options.respond ?? ((request: ChatCompletionRequestBody) => lastUserText(request));
    const texts: string[] = [];
    for (let choiceIndex = 0; choiceIndex < n; choiceIndex++) texts.push(await respond(body, { requestIndex: index, choiceIndex }));
    const usage = chatUsage(body.model, body.messages.map((m) => ({ role: m.role, content: messageText(m.content) })), texts);
    stats.billed.promptTokens += usage.prompt_tokens;
    stats.billed.completionTokens += usage.completion_tokens;
    if (res.destroyed) return;
    const payload = {
      id: `chatcmpl-loopback-${index}`,
      object: 'chat.completion',
      created: Math.floor(now / 1000),
      model: body.model,
      system_fingerprint: 'fp_loopback',
      choices: texts.map((text, i) => ({
        index: i,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      })),
      usage,
    };
    if (fault === 'truncated') {
      const full = JSON.stringify(payload);
      stats.byStatus[200] = (stats.byStatus[200] ?? 0) + 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(full.slice(0, Math.floor(full.length / 2)));
      return;
    }
    stats.completed++;
    sendJson(res, 200, payload);
  }

  function pickFault(index: number): FaultKind | undefined {
    if (options.faultSequence) {
      const scripted = options.faultSequence[index];
      return scripted === undefined || scripted === 'ok' ? undefined : scripted;
    }
    const faults = options.faults;
    if (!faults || faults.rate <= 0) return undefined;
    if (random() >= faults.rate) return undefined;
    const kinds = faults.kinds ?? ['rate-limit', 'server-error'];
    return kinds[Math.floor(random() * kinds.length)];
  }

  function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(payload));
  }

  function sendError(
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    code: string | null = null,
    headers: Record<string, string> = {},
    param: string | null = null,
  ): void {
    sendJson(res, status, { error: { message, type, param, code } }, headers);
  }

  const server = await listenOnLoopback(handle, (error, res) => sendError(res, 500, (error as Error).message, 'server_error'));
  return {
    url: `${server.origin}/v1`,
    port: server.port,
    stats,
    requests,
    reset() {
      Object.assign(stats, emptyStats());
      requests.length = 0;
      window.length = 0;
      requestIndex = 0;
      random = seededRandom(options.faults?.seed ?? 1);
    },
    close: () => server.close(),
  };
}

function emptyStats(): OpenAICompatibleServerStats {
  return { requests: 0, completed: 0, rateLimited: 0, faultsInjected: 0, byStatus: {}, maxRequestsInWindow: 0, arrivals: [], rateLimitedArrivals: [], billed: { promptTokens: 0, completionTokens: 0 } };
}


/** The text of a chat message's content (a string, or text parts). */
export function messageText(content: ChatCompletionRequestBody['messages'][number]['content']): string {
  return typeof content === 'string' ? content : content.map((part) => part.text ?? '').join('');
}

/** The text of the last user message of a request. */
export function lastUserText(request: ChatCompletionRequestBody): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role === 'user') return messageText(message.content);
  }
  return '';
}


import { DemoConfigError } from './demo-config-error.js';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { builtSchema, canStream, type Executor, lazySchema, ProgressEmitter, redactSecrets, RUN_FILES, type StageContext } from '@prompt2model/core/internal';
import type { DemoContent, DemoInfo } from './demo-info.js';
import { DemoHttpError, SECURITY_HEADERS, readJsonBody, sendError, sendJson } from './http-response.js';
import { asHttpError, baseUrl, closeOnce, listen, methodNotAllowed, modelFailure, requestGone } from './http-server.js';
import { ModelQueue } from './model-queue.js';
import {
  RateLimiter,
  TOKEN_COOKIE,
  allowedHostHeaders,
  checkHost,
  checkPost,
  requestToken,
  resolvesToLoopback,
  tokenMatches,
} from './request-guards.js';
import { PAGE_DIR, contentTypeOf, resolveStaticFile } from './static-files.js';


export interface DemoServerOptions {
  /** Runs the model (ONNX, the Python predict worker, a provider model). One call at a time. */
  executor: Executor;
  /** The page's content: title, instruction, examples, model. `mode` is `server`. */
  info: DemoContent;
  /** The run's context: the executor runs in it; flags go to `<run folder>/demo/flagged.jsonl`. */
  context: StageContext;
  /** Bind address (default 127.0.0.1). Anything not on loopback needs `accessToken`. */
  host?: string;
  /** Port (default 7860, Gradio's; 0 picks a free one). */
  port?: number;
  /** Required on every request when set (the page gets it once through `?token=`, kept in a cookie). */
  accessToken?: string;
  /** More `Host` header values to answer (a LAN name, a reverse proxy); loopback names always work. */
  allowedHosts?: string[];
  /** Largest request body (default 64 KiB). */
  maxBodyBytes?: number;
  /** Longest input in characters (default 4,000). */
  maxInputChars?: number;
  /** Longest flag field (input, output, comment) in characters (default 8,192); longer → 413. */
  maxFlagFieldChars?: number;
  /** Flags one client address may send per minute (default 30); more → 429 with Retry-After. */
  flagsPerMinute?: number;
  /** Largest `demo/flagged.jsonl` (default 10 MB); a flag that would grow it past this → 507. */
  maxFlagFileBytes?: number;
  /** Requests waiting behind the running one before 429 (default 8). */
  maxQueue?: number;
  /** Per-request limit, waiting included (default 120 s). */
  timeoutMs?: number;
  /** Where request lines and warnings go (default nowhere). */
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Let the process exit while the server listens (for a pipeline stage); default false. */
  unref?: boolean;
}

export interface DemoServer {
  /** The page's address (with `?token=` when an access token is set). */
  url: string;
  host: string;
  port: number;
  /** Stops listening, cancels queued requests and closes open connections. */
  close(): Promise<void>;
  /** Resolves once the server has closed. */
  closed: Promise<void>;
}

const PredictBodySchema = lazySchema((z) => z.object({ input: z.string() }).strict());
const FlagBodySchema = lazySchema((z) =>
  z
    .object({
      input: z.string(),
      output: z.string(),
      verdict: z.enum(['correct', 'incorrect', 'other']),
      comment: z.string().optional(),
    })
    .strict(),
);

/**
 * The served demo: the page, and an HTTP API beside it (`GET /api/info`, `POST /api/predict`,
 * `POST /api/predict/stream` as server-sent events, `POST /api/flag`, `GET /healthz`).
 * Security: binds loopback by default, checks Host (DNS rebinding), Origin and JSON content type,
 * limits body and input size, runs one model call at a time behind a bounded queue with a timeout,
 * serves a strict CSP, and keeps every key on the server.
 */
export async function startDemoServer(options: DemoServerOptions): Promise<DemoServer> {
  const host = options.host ?? '127.0.0.1';
  // Decided from the resolved address: a name that merely starts with "127." is not loopback.
  const loopback = await resolvesToLoopback(host);
  if (!loopback && !options.accessToken) {
    throw new DemoConfigError({
      message: `Serving the demo on ${host} (beyond this machine) needs an access token.`,
      hint: 'Pass an access token (`DemoServerOptions.accessToken`), or keep the default host 127.0.0.1.',
    });
  }
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const maxInputChars = options.maxInputChars ?? 4000;
  const flagsPath = options.context.store.path(RUN_FILES.demoFlags);
  const maxFlagFieldChars = options.maxFlagFieldChars ?? 8 * 1024;
  const maxFlagFileBytes = options.maxFlagFileBytes ?? 10 * 1000 * 1000;
  const flagLimiter = new RateLimiter({ limit: options.flagsPerMinute ?? 30, perMs: 60_000 });
  // Appends run one after another, so two flags cannot both pass the file-size check.
  let flagWrites: Promise<unknown> = Promise.resolve();
  const queue = new ModelQueue({ ...(options.maxQueue !== undefined ? { maxWaiting: options.maxQueue } : {}), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
  const closing = new AbortController();
  // The executor's progress events would print a bar per request; the server logs its own line.
  const modelEvents = new ProgressEmitter();
  const streaming = canStream(options.executor);
  const info: DemoInfo = { ...options.info, mode: 'server', streaming, flagging: true, limits: { maxInputChars } };
  let allowedHosts = new Set<string>();
  const log = options.log ?? (() => undefined);

  const predict = async (input: string, signal: AbortSignal, onText?: (text: string) => void): Promise<{ output: string; latencyMs: number }> => {
    const started = performance.now();
    const context: StageContext = { ...options.context, events: modelEvents, signal: AbortSignal.any([signal, options.context.signal]) };
    const executor = options.executor;
    let output: string;
    try {
      output = onText && canStream(executor) ? (await executor.stream(input, context, onText)).output : ((await executor.execute([input], context))[0]?.output ?? '');
    } catch (error) {
      throw modelFailure(error, log);
    }
    return { output, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  };

  const validInput = (body: unknown): string => {
    const parsed = PredictBodySchema.safeParse(body);
    if (!parsed.success) throw new DemoHttpError(400, 'invalid_request', 'Send {"input": "<text>"}.');
    const input = parsed.data.input;
    if (input.trim() === '') throw new DemoHttpError(400, 'empty_input', 'The input is empty.');
    if (input.length > maxInputChars) throw new DemoHttpError(413, 'input_too_long', `The input has ${input.length} characters; the limit is ${maxInputChars}.`);
    return input;
  };

  const handlePredict = async (request: IncomingMessage, response: ServerResponse) => {
    const input = validInput(await readJsonBody(request, maxBodyBytes));
    const gone = requestGone(response, closing.signal);
    const result = await queue.run((signal) => predict(input, signal), { signal: gone });
    log('info', `predict ${input.length} chars → ${result.output.length} chars in ${result.latencyMs} ms`);
    sendJson(response, 200, result);
  };

  const handleStream = async (request: IncomingMessage, response: ServerResponse) => {
    const input = validInput(await readJsonBody(request, maxBodyBytes));
    // A full queue is a plain 429, as on /api/predict, not an event of a started stream.
    queue.ensureRoom();
    const gone = requestGone(response, closing.signal);
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const send = (event: string, data: unknown) => {
      if (!response.writableEnded) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    try {
      let streamed = false;
      const result = await queue.run((signal) => predict(input, signal, (text) => ((streamed = true), send('delta', { text }))), {
        signal: gone,
        onQueued: (position) => send('queued', { position }),
        onStart: () => send('start', {}),
      });
      // An executor that cannot stream sends its whole answer as one delta.
      if (!streamed) send('delta', { text: result.output });
      send('done', result);
      log('info', `stream ${input.length} chars → ${result.output.length} chars in ${result.latencyMs} ms`);
    } catch (error) {
      const failure = asHttpError(error);
      send('error', { error: { code: failure.code, message: failure.message } });
    }
    response.end();
  };

  const handleFlag = async (request: IncomingMessage, response: ServerResponse) => {
    flagLimiter.take(request.socket.remoteAddress ?? 'unknown', 'flags');
    // The body guard first: a flag never needs more than its three fields and some JSON around them.
    const parsed = FlagBodySchema.safeParse(await readJsonBody(request, Math.min(maxBodyBytes, 3 * maxFlagFieldChars * 6 + 1024)));
    if (!parsed.success) {
      throw new DemoHttpError(400, 'invalid_request', 'Send {"input", "output", "verdict": "correct" | "incorrect" | "other", "comment"?}.');
    }
    const flag = parsed.data;
    for (const field of ['input', 'output', 'comment'] as const) {
      const length = flag[field]?.length ?? 0;
      if (length > maxFlagFieldChars) throw new DemoHttpError(413, 'flag_too_large', `The flag's ${field} has ${length} characters; the limit is ${maxFlagFieldChars} per field.`);
    }
    const row = `${JSON.stringify({ ...flag, model: info.model.id, flaggedAt: new Date().toISOString() })}\n`;
    const write = flagWrites.then(async () => {
      await mkdir(dirname(flagsPath), { recursive: true });
      const size = await stat(flagsPath).then((file) => file.size, () => 0);
      if (size + Buffer.byteLength(row) > maxFlagFileBytes) {
        log('warn', `${RUN_FILES.demoFlags} has reached its limit of ${maxFlagFileBytes} bytes; flag refused.`);
        throw new DemoHttpError(507, 'flags_full', `The flag file is full (${maxFlagFileBytes} bytes). Move or review demo/flagged.jsonl in the run folder, then flag again.`);
      }
      await appendFile(flagsPath, row);
    });
    flagWrites = write.catch(() => undefined);
    await write;
    sendJson(response, 200, { ok: true });
  };

  const healthz = (method: string, response: ServerResponse) => {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
    sendJson(response, 200, { status: 'ok', model: info.model.id, queue: queue.depth });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    checkHost(request, allowedHosts);
    const url = new URL(request.url ?? '/', 'http://demo.invalid');
    const method = request.method ?? 'GET';
    // On loopback the health check answers anyone on this machine; beyond it, only with the token.
    if (url.pathname === '/healthz' && loopback) return healthz(method, response);
    if (options.accessToken) {
      const token = requestToken(request, url);
      if (!tokenMatches(token, options.accessToken)) {
        throw new DemoHttpError(401, 'unauthorized', 'This demo needs its access token: open the URL printed when it started.', { 'WWW-Authenticate': 'Bearer' });
      }
      if (url.searchParams.has('token') && method === 'GET') {
        // Keep the token out of the address bar and history: a cookie from here on.
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          Location: url.pathname,
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(options.accessToken)}; HttpOnly; SameSite=Strict; Path=/`,
        });
        response.end();
        return;
      }
    }
    if (url.pathname === '/healthz') return healthz(method, response);
    if (url.pathname.startsWith('/api/')) {
      if (url.pathname === '/api/info') {
        if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
        sendJson(response, 200, info);
        return;
      }
      const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void>> = {
        '/api/predict': handlePredict,
        '/api/predict/stream': handleStream,
        '/api/flag': handleFlag,
      };
      const route = routes[url.pathname];
      if (!route) throw new DemoHttpError(404, 'not_found', `No API route ${url.pathname}.`);
      if (method !== 'POST') throw methodNotAllowed('POST');
      checkPost(request);
      await route(request, response);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
    const file = await resolveStaticFile(PAGE_DIR, url.pathname);
    if (!file) throw new DemoHttpError(404, 'not_found', 'Not found.');
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentTypeOf(file), 'Cache-Control': 'no-cache' });
    if (method === 'HEAD') response.end();
    else createReadStream(file).pipe(response);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure = asHttpError(error);
      if (failure.status >= 500 && failure.code === 'internal_error') log('warn', `demo server error: ${redactSecrets(String((error as Error)?.stack ?? error))}`);
      sendError(response, failure);
    });
  });
  server.requestTimeout = 5 * 60_000;
  server.headersTimeout = 30_000;

  // The request schemas are built (zod loaded) now, so the first request does not pay for it.
  builtSchema(PredictBodySchema);
  builtSchema(FlagBodySchema);
  const port = await listen(server, host, options.port ?? 7860);
  if (options.unref) server.unref();
  allowedHosts = allowedHostHeaders(host, port, options.allowedHosts);
  if (!loopback) {
    log('warn', `The demo listens on ${host}:${port}, reachable from other machines; only requests with the access token are answered.`);
  }
  const url = `${baseUrl(host, port)}/${options.accessToken ? `?token=${encodeURIComponent(options.accessToken)}` : ''}`;
  const { close, closed } = closeOnce(server, closing);
  return { url, host, port, close, closed };
}

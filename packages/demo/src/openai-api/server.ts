import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { canStream, estimateTokens, ProgressEmitter, redactSecrets, type Executor, type GenerationOptions, type Prediction, type StageContext } from '@prompt2model/core/internal';
import { BatchQueue, type BatchRunner } from '../batch-queue.js';
import { DemoConfigError } from '../demo-config-error.js';
import { DemoHttpError, SECURITY_HEADERS, readJsonBody, sendError, sendJson } from '../http-response.js';
import { asHttpError, baseUrl, closeOnce, listen, methodNotAllowed, modelFailure, requestGone } from '../http-server.js';
import { allowedHostHeaders, bearerToken, checkHost, checkPost, resolvesToLoopback, tokenMatches } from '../request-guards.js';
import { parseChatRequest, parseCompletionRequest, prepareRequestSchemas, type ParsedRequest, type RequestLimits } from './requests.js';
import { ServeStatistics, type ServeStats } from './stats.js';
import { cutAtStop, StopStringFilter } from './stop-strings.js';
import { answeredByOf, chatCompletion, chunk, completionId, openAIError, sendEvent, textCompletion, usageOf, type Choice, type ChunkChoice, type FinishReason, type ResponseHead } from './wire.js';

export interface OpenAIServerOptions {
  /** Runs the model: `execute` for batches, `stream` (when it has one) for `stream: true`. */
  executor: Executor;
  /** The context the executor runs in (its abort signal stops every call). */
  context: StageContext;
  /** The model id clients send as `model` and `GET /v1/models` lists. */
  modelName: string;
  /** Bind address (default 127.0.0.1). Anything not on loopback needs `apiKey`. */
  host?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Required as `Authorization: Bearer <apiKey>` on every request when set. */
  apiKey?: string;
  /** More `Host` header values to answer without an `apiKey` (a reverse proxy's name); loopback names always work. */
  allowedHosts?: string[];
  /** Largest request body (default 256 KiB). */
  maxBodyBytes?: number;
  /** Longest input (the last user message, or each prompt) in characters (default 4,000). */
  maxInputChars?: number;
  /** Largest `max_tokens` a request may ask for (default 1,024). */
  maxTokens?: number;
  /** Most choices per request, `n` times the prompts (default 16). */
  maxChoices?: number;
  /** Model inputs that may wait while a batch runs before 429 (default 64). */
  maxQueue?: number;
  /** Per-request limit, waiting included (default 120 s). */
  timeoutMs?: number;
  /** Most inputs in one model call (default 8). */
  maxBatch?: number;
  /** How long a batch waits for more requests under load, in ms (default 5). */
  batchWindowMs?: number;
  /** Where request lines and warnings go (default nowhere). */
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Let the process exit while the server listens; default false. */
  unref?: boolean;
}

export interface OpenAIServer {
  /** The API's base URL, `http://host:port/v1`: what `OPENAI_BASE_URL` (the `baseURL` of a client) is set to. */
  url: string;
  host: string;
  port: number;
  /** Requests, answers (who answered), batches and tokens so far (`GET /v1/stats`). */
  stats(): ServeStats;
  /** Stops listening, cancels queued requests and closes open connections. */
  close(): Promise<void>;
  /** Resolves once the server has closed. */
  closed: Promise<void>;
}

/** One model input with its generation options, and the choices its answer fills. */
interface Job {
  input: string;
  options: GenerationOptions;
  /** Index of the prompt it answers (completions with several prompts). */
  prompt: number;
  choices: number[];
}

/** The model inputs of a request: one per prompt when greedy (its `n` choices are the same answer), else one per choice. */
function jobsOf(request: ParsedRequest): Job[] {
  return request.inputs.flatMap((input, prompt) =>
    request.greedy
      ? [{ input, options: request.optionsFor(0), prompt, choices: Array.from({ length: request.n }, (_, j) => prompt * request.n + j) }]
      : Array.from({ length: request.n }, (_, j) => ({ input, options: request.optionsFor(j), prompt, choices: [prompt * request.n + j] })),
  );
}

/** Requests with equal options can share one model call. */
function batchKey(options: GenerationOptions): string {
  return JSON.stringify([options.maxNewTokens, options.temperature, options.topP, options.seed, options.stop]);
}

/**
 * An OpenAI-compatible API over a trained student: `GET /v1/models`, `POST /v1/chat/completions`,
 * `POST /v1/completions` (with `stream: true` as server-sent events), `GET /v1/stats`, and
 * `GET /healthz`. Concurrent requests are batched into one model call (`BatchQueue`: requests with
 * equal generation options, up to `maxBatch`, after a short window under load). The security rules
 * are the demo's: loopback by default (decided from the resolved address), a bearer token required
 * beyond it, the Host allowlist against DNS rebinding when there is no token, JSON-only POSTs from
 * no foreign origin, body and input limits, a bounded queue answering 429 with Retry-After, and
 * per-request timeouts.
 */
export async function startOpenAIServer(options: OpenAIServerOptions): Promise<OpenAIServer> {
  const host = options.host ?? '127.0.0.1';
  const loopback = await resolvesToLoopback(host);
  if (!loopback && !options.apiKey) {
    throw new DemoConfigError({
      message: `Serving the model on ${host} (beyond this machine) needs an API key that clients send as a bearer token.`,
      hint: 'Pass an API key (`OpenAIServerOptions.apiKey`), or keep the default host 127.0.0.1.',
    });
  }
  const executor = options.executor;
  const modelName = options.modelName;
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  const limits: RequestLimits = { maxInputChars: options.maxInputChars ?? 4000, maxTokens: options.maxTokens ?? 1024, maxChoices: options.maxChoices ?? 16 };
  const queue = new BatchQueue({
    maxWaiting: options.maxQueue ?? 64,
    timeoutMs: options.timeoutMs ?? 120_000,
    maxBatch: options.maxBatch ?? 8,
    windowMs: options.batchWindowMs ?? 5,
  });
  const log = options.log ?? (() => undefined);
  const closing = new AbortController();
  // The executor's progress events would print a bar per call; the server logs its own line.
  const modelEvents = new ProgressEmitter();
  const stats = new ServeStatistics(modelName);
  const created = Math.floor(Date.now() / 1000);
  let allowedHosts = new Set<string>();

  const contextFor = (signal: AbortSignal): StageContext => ({ ...options.context, events: modelEvents, signal: AbortSignal.any([signal, options.context.signal]) });

  /** One model call over a batch of inputs that share their options. */
  const runBatch: BatchRunner<Job, Prediction> = async (jobs, signal) => {
    let predictions: Prediction[];
    const started = performance.now();
    try {
      predictions = await executor.execute(
        jobs.map((job) => job.input),
        contextFor(signal),
        jobs[0]!.options,
      );
    } catch (error) {
      throw modelFailure(error, log);
    }
    stats.batch(jobs.length, performance.now() - started);
    return predictions;
  };

  /** Runs a request's inputs through the batching queue: all are queued or none (429). */
  const runJobs = async (jobs: Job[], signal: AbortSignal): Promise<Prediction[]> => {
    queue.ensureRoom(jobs.length);
    const request = new AbortController();
    const both = AbortSignal.any([signal, request.signal]);
    try {
      return await Promise.all(jobs.map((job) => queue.run(job, runBatch, { key: batchKey(job.options), signal: both })));
    } catch (error) {
      // One input failed: the request has its answer; its other inputs leave the queue.
      request.abort();
      throw error;
    }
  };

  const choiceOf = (job: Job, prediction: Prediction | undefined, index: number, request: ParsedRequest): Choice => {
    const cut = cutAtStop(prediction?.output ?? '', job.options.stop);
    const answeredBy = answeredByOf(prediction);
    return {
      index,
      text: request.echo ? request.inputs[job.prompt]! + cut.text : cut.text,
      finishReason: cut.stopped ? 'stop' : (prediction?.finishReason ?? 'stop'),
      ...(answeredBy ? { answeredBy } : {}),
    };
  };

  const usageFor = (request: ParsedRequest, jobs: Job[], predictions: Array<Prediction | undefined>) => {
    let promptTokens = 0;
    let completionTokens = 0;
    const counted = new Set<number>();
    jobs.forEach((job, index) => {
      const prediction = predictions[index];
      // The prompt counts once per input however many choices it has; tokens are the executor's count, else an estimate.
      if (!counted.has(job.prompt)) {
        counted.add(job.prompt);
        promptTokens += prediction?.promptTokens ?? estimateTokens(request.inputs[job.prompt]!);
      }
      completionTokens += (prediction?.outputTokens ?? estimateTokens(prediction?.output ?? '')) * job.choices.length;
    });
    return usageOf(promptTokens, completionTokens);
  };

  const head = (request: ParsedRequest): ResponseHead => ({ id: completionId(request.kind), created: Math.floor(Date.now() / 1000), model: modelName });

  const answer = async (request: ParsedRequest, response: ServerResponse) => {
    const started = performance.now();
    const jobs = jobsOf(request);
    const predictions = await runJobs(jobs, requestGone(response, closing.signal));
    const choices = jobs.flatMap((job, index) => job.choices.map((choice) => choiceOf(job, predictions[index], choice, request))).sort((a, b) => a.index - b.index);
    const usage = usageFor(request, jobs, predictions);
    const top = head(request);
    const body = request.kind === 'chat' ? chatCompletion(top, choices, usage) : textCompletion(top, choices, usage);
    stats.answered(request, choices, usage);
    const single = choices.length === 1 ? choices[0]!.answeredBy : undefined;
    sendJson(response, 200, body, { 'x-request-id': top.id, ...(single ? { 'x-prompt2model-answered-by': single } : {}) });
    log('info', `${request.kind} ${jobs.length} input(s) → ${choices.length} choice(s) in ${Math.round(performance.now() - started)} ms`);
  };

  const answerStream = async (request: ParsedRequest, response: ServerResponse) => {
    const started = performance.now();
    const jobs = jobsOf(request);
    const streaming = canStream(executor);
    // A full queue is a plain 429, before the stream's headers.
    queue.ensureRoom(streaming ? 1 : jobs.length);
    const gone = requestGone(response, closing.signal);
    const top = head(request);
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no', 'x-request-id': top.id });
    const usageField = request.includeUsage ? null : undefined;
    const send = (choices: ChunkChoice[]) => sendEvent(response, chunk(request.kind, top, choices, usageField));
    const filters = new Map<number, StopStringFilter>();
    for (const job of jobs) {
      for (const index of job.choices) {
        filters.set(index, new StopStringFilter(job.options.stop, (text) => send([{ index, text }])));
        if (request.kind === 'chat') send([{ index, role: 'assistant', text: '' }]);
        if (request.echo) send([{ index, text: request.inputs[job.prompt]! }]);
      }
    }
    const finishJob = (job: Job, prediction: Prediction | undefined) => {
      for (const index of job.choices) {
        const filter = filters.get(index)!;
        if (!streaming) filter.push(prediction?.output ?? '');
        filter.flush();
        const finishReason: FinishReason = filter.hasStopped || cutAtStop(prediction?.output ?? '', job.options.stop).stopped ? 'stop' : (prediction?.finishReason ?? 'stop');
        send([{ index, finishReason, answeredBy: answeredByOf(prediction) }]);
      }
    };
    try {
      let predictions: Prediction[];
      if (streaming) {
        // Streamed answers run alone, one input after another, each token sent as it comes.
        const streamAll: BatchRunner<Job[], Prediction[]> = async ([all], signal) => {
          const results: Prediction[] = [];
          for (const job of all!) {
            let prediction: Prediction;
            const started = performance.now();
            try {
              prediction = await executor.stream(job.input, contextFor(signal), (text) => job.choices.forEach((index) => filters.get(index)!.push(text)), job.options);
            } catch (error) {
              throw modelFailure(error, log);
            }
            stats.batch(1, performance.now() - started);
            finishJob(job, prediction);
            results.push(prediction);
          }
          return [results];
        };
        predictions = await queue.run(jobs, streamAll, { signal: gone });
      } else {
        predictions = await runJobs(jobs, gone);
        jobs.forEach((job, index) => finishJob(job, predictions[index]));
      }
      const usage = usageFor(request, jobs, predictions);
      if (request.includeUsage) sendEvent(response, chunk(request.kind, top, [], usage));
      sendEvent(response, '[DONE]');
      stats.answered(
        request,
        jobs.flatMap((job, index) => job.choices.map((choice) => choiceOf(job, predictions[index], choice, request))),
        usage,
        true,
      );
      log('info', `${request.kind} stream ${jobs.length} input(s) in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      const failure = asHttpError(error);
      stats.failed(failure.status);
      // OpenAI's clients raise an `error` object that arrives inside the stream.
      sendEvent(response, openAIError(failure));
    }
    response.end();
  };

  const completions = async (kind: 'chat' | 'completion', request: IncomingMessage, response: ServerResponse) => {
    const body = await readJsonBody(request, maxBodyBytes);
    const parsed = kind === 'chat' ? parseChatRequest(body, limits) : parseCompletionRequest(body, limits);
    if (parsed.model !== modelName) {
      throw new DemoHttpError(404, 'model_not_found', `The model \`${parsed.model}\` does not exist: this server serves \`${modelName}\` (GET /v1/models lists it).`, {}, 'model');
    }
    await (parsed.stream ? answerStream(parsed, response) : answer(parsed, response));
  };

  const modelObject = { id: modelName, object: 'model', created, owned_by: 'prompt2model' };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    // Without a key, only this machine's names are answered (DNS rebinding); with one, the key guards.
    if (!options.apiKey) checkHost(request, allowedHosts);
    const url = new URL(request.url ?? '/', 'http://serve.invalid');
    const method = request.method ?? 'GET';
    const route = url.pathname.replace(/\/+$/, '');
    const get = () => {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
    };
    if (route === '/healthz' && loopback) {
      get();
      return sendJson(response, 200, { status: 'ok', model: modelName, queue: queue.depth });
    }
    if (options.apiKey && !tokenMatches(bearerToken(request), options.apiKey)) {
      throw new DemoHttpError(401, 'unauthorized', 'Incorrect or missing API key: send it as `Authorization: Bearer <key>` (the key printed when the server started).', { 'WWW-Authenticate': 'Bearer' });
    }
    switch (route) {
      case '/healthz':
        get();
        return sendJson(response, 200, { status: 'ok', model: modelName, queue: queue.depth });
      case '/v1/models':
        get();
        return sendJson(response, 200, { object: 'list', data: [modelObject] });
      case `/v1/models/${encodeURIComponent(modelName)}`:
        get();
        return sendJson(response, 200, modelObject);
      case '/v1/stats':
        get();
        return sendJson(response, 200, { ...stats.snapshot(), queue: queue.depth });
      case '/v1/chat/completions':
      case '/v1/completions':
        if (method !== 'POST') throw methodNotAllowed('POST');
        checkPost(request);
        return completions(route === '/v1/chat/completions' ? 'chat' : 'completion', request, response);
    }
    if (route.startsWith('/v1/models/')) {
      get();
      throw new DemoHttpError(404, 'model_not_found', `The model \`${decodeURIComponent(route.slice('/v1/models/'.length))}\` does not exist: this server serves \`${modelName}\`.`, {}, 'model');
    }
    throw new DemoHttpError(404, 'not_found', `Invalid URL (${method} ${url.pathname}).`);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure = asHttpError(error);
      if (failure.status >= 500 && failure.code === 'internal_error') log('warn', `server error: ${redactSecrets(String((error as Error)?.stack ?? error))}`);
      if (failure.status === 429 || failure.status >= 500) stats.failed(failure.status);
      sendError(response, failure, openAIError);
    });
  });
  server.requestTimeout = 5 * 60_000;
  server.headersTimeout = 30_000;

  prepareRequestSchemas();
  const port = await listen(server, host, options.port ?? 8000);
  if (options.unref) server.unref();
  allowedHosts = allowedHostHeaders(host, port, options.allowedHosts);
  if (!loopback) log('warn', `The API listens on ${host}:${port}, reachable from other machines; only requests with the API key are answered.`);
  const { close, closed } = closeOnce(server, closing);
  return { url: `${baseUrl(host, port)}/v1`, host, port, stats: () => ({ ...stats.snapshot(), queue: queue.depth }), close, closed };
}

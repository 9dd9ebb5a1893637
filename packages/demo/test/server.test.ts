import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, formatTrainingPrompt, type Executor, type PromptSpec, type StageContext, type TrainedModel } from '@prompt2model/core/internal';
import { LanguageModelExecutor, OnnxExecutor } from '@prompt2model/evaluator/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { WorkerExecutor, workerExecutors } from '@prompt2model/trainer/internal';
import { buildTinySeq2Seq, buildTinyCausalLM, lastUserText, MockLanguageModel, SENTIMENT_LABELS, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { createDemoCreator, demoExecutorFor, startDemoServer, type DemoServer } from '../src/internal.js';
import { canStream } from '@prompt2model/core/internal';
import { RateLimiter } from '../src/request-guards.js';
import { rawRequest } from './support/http.js';

const spec: PromptSpec = {
  instruction: 'Classify the sentiment of the movie review as positive or negative.',
  examples: [
    { input: 'A great film, I loved it', output: 'positive' },
    { input: 'Boring and awful', output: 'negative' },
  ],
  language: 'en',
};

/** Page content for servers whose page the test does not look at. */
const PLAIN_INFO = { title: 't', instruction: 'i', examples: [], model: { id: 'm', runtime: 'r' } };

let root: string;
let modelDir: string;

const localModel = (reference: string): TrainedModel => ({ backend: 'local', reference, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} });

async function contextFor(name: string): Promise<StageContext> {
  return createStageContext({ outDir: join(root, name), cacheDir: false });
}

function json(input: unknown, headers: Record<string, string> = {}) {
  return { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(input) };
}

/** An executor that holds every call until `open()`, for queue and timeout tests. */
function gatedExecutor(): Executor & { open(): void; calls: number } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const executor = {
    specificationVersion: 'v1' as const,
    name: 'gated',
    modelId: 'gated',
    calls: 0,
    open: () => open(),
    async execute(inputs: string[]) {
      executor.calls++;
      await gate;
      return inputs.map((input) => ({ output: input.toUpperCase(), latencyMs: 1 }));
    },
  };
  return executor;
}

/** Waits (without a fixed sleep, which a loaded machine outruns) until the server's queue holds `depth` requests. */
async function queueDepth(server: DemoServer, depth: number): Promise<void> {
  await expect.poll(async () => ((await (await fetch(new URL('/healthz', server.url))).json()) as { queue: number }).queue, { timeout: 10_000 }).toBe(depth);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-demo-server-'));
  modelDir = join(root, 'model');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the served demo with an ONNX student', () => {
  let server: DemoServer;
  let context: StageContext;
  let executor: Executor;

  beforeAll(async () => {
    context = await contextFor('onnx-run');
    executor = demoExecutorFor(localModel(modelDir), spec);
    server = await startDemoServer({ executor, context, port: 0, info: { title: 'Sentiment', instruction: spec.instruction, examples: spec.examples, model: { id: 'student', runtime: executor.name } } });
  });
  afterAll(async () => {
    await server.close();
    await executor.dispose?.();
  });

  it('picks the ONNX executor for an exported folder and answers /api/predict with the model output and latency', async () => {
    expect(executor.name).toBe('onnx');
    expect(canStream(executor)).toBe(true);
    const response = await fetch(new URL('/api/predict', server.url), json({ input: 'What a great movie' }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { output: string; latencyMs: number };
    expect(body.output).toBe('positive');
    expect(body.latencyMs).toBeGreaterThan(0);
    const second = (await (await fetch(new URL('/api/predict', server.url), json({ input: 'bad, boring, awful' }))).json()) as { output: string };
    expect(second.output).toBe('negative');
  });

  it('serves the task, the examples and the limits at /api/info, and health at /healthz', async () => {
    const info = (await (await fetch(new URL('/api/info', server.url))).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ title: 'Sentiment', instruction: spec.instruction, examples: spec.examples, mode: 'server', flagging: true, streaming: true, limits: { maxInputChars: 4000 } });
    const health = await fetch(new URL('/healthz', server.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('streams an answer as server-sent events', async () => {
    const response = await fetch(new URL('/api/predict/stream', server.url), json({ input: 'good' }));
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const events = text.trim().split('\n\n').map((block) => ({ event: /event: (.*)/.exec(block)?.[1], data: JSON.parse(/data: (.*)/.exec(block)?.[1] ?? 'null') as Record<string, unknown> }));
    expect(events.map((event) => event.event)).toEqual(['start', 'delta', 'done']);
    expect(events[1]!.data).toEqual({ text: 'positive' });
    expect(events[2]!.data).toMatchObject({ output: 'positive' });
  });

  it('streams an ONNX answer token by token', async () => {
    const dir = join(root, 'causal');
    // The training prompt ends with "Label:" and a newline: the answer chains from ":".
    await buildTinyCausalLM(dir, { next: { ':': 'hello', hello: 'world', world: 'and', and: 'it' } });
    const causal = demoExecutorFor(localModel(dir), spec);
    const streamServer = await startDemoServer({ executor: causal, context, port: 0, info: { title: 't', instruction: spec.instruction, examples: [], model: { id: 'm', runtime: causal.name } } });
    try {
      const text = await (await fetch(new URL('/api/predict/stream', streamServer.url), json({ input: 'anything' }))).text();
      const events = text.trim().split('\n\n').map((block) => ({ event: /event: (.*)/.exec(block)?.[1], data: JSON.parse(/data: (.*)/.exec(block)?.[1] ?? 'null') as Record<string, unknown> }));
      expect(events.map((event) => event.event)).toEqual(['start', 'delta', 'delta', 'delta', 'delta', 'done']);
      expect(events.filter((event) => event.event === 'delta').map((event) => event.data.text).join('')).toBe('hello world and it');
      expect(events.at(-1)!.data).toMatchObject({ output: 'hello world and it' });
      // The plain route answers the same, and streaming left nothing behind.
      expect(await (await fetch(new URL('/api/predict', streamServer.url), json({ input: 'anything' }))).json()).toMatchObject({ output: 'hello world and it' });
    } finally {
      await streamServer.close();
      await causal.dispose?.();
    }
  });

  it('appends flags to demo/flagged.jsonl in the run folder', async () => {
    const first = await fetch(new URL('/api/flag', server.url), json({ input: 'good', output: 'positive', verdict: 'correct' }));
    expect(first.status).toBe(200);
    await fetch(new URL('/api/flag', server.url), json({ input: 'meh', output: '', verdict: 'incorrect', comment: 'should be negative' }));
    const rows = (await readFile(context.store.path('demo/flagged.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ input: 'meh', verdict: 'incorrect', comment: 'should be negative', model: 'student' });
    const bad = await fetch(new URL('/api/flag', server.url), json({ input: 'x', output: 'y', verdict: '<script>' }));
    expect(bad.status).toBe(400);
  });

  it('sends a strict Content-Security-Policy and no-sniff with the page', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
    expect((await fetch(new URL('/app.js', server.url))).headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});

describe('security rules, tested from outside', () => {
  let server: DemoServer;
  const executor = gatedExecutor();

  beforeAll(async () => {
    server = await startDemoServer({ executor, context: await contextFor('security'), port: 0, maxQueue: 1, info: PLAIN_INFO });
  });
  afterAll(() => server.close());

  it('refuses a POST from a foreign Origin', async () => {
    const response = await rawRequest(server.port, { path: '/api/predict', ...json({ input: 'hi' }, { Origin: 'http://evil.example' }) });
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'origin_not_allowed', message: expect.stringContaining('evil.example') } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(executor.calls).toBe(0);
  });

  it('accepts its own origin, and refuses a POST that is not JSON', async () => {
    const own = `http://127.0.0.1:${server.port}`;
    const form = await rawRequest(server.port, { method: 'POST', path: '/api/predict', headers: { Origin: own, 'Content-Type': 'text/plain' }, body: '{"input":"hi"}' });
    expect(form.status).toBe(415);
    expect(JSON.parse(form.body).error.code).toBe('unsupported_media_type');
  });

  it('refuses a wrong Host header (DNS rebinding), on the page and the API', async () => {
    const page = await rawRequest(server.port, { path: '/', headers: { Host: `rebind.evil.example:${server.port}` } });
    expect(page.status).toBe(403);
    expect(JSON.parse(page.body).error.code).toBe('host_not_allowed');
    const api = await rawRequest(server.port, { path: '/api/info', headers: { Host: 'evil.example' } });
    expect(api.status).toBe(403);
    const ok = await rawRequest(server.port, { path: '/api/info', headers: { Host: `localhost:${server.port}` } });
    expect(ok.status).toBe(200);
  });

  it('refuses a 1 MB body with 413 without running the model', async () => {
    const body = JSON.stringify({ input: 'x'.repeat(1024 * 1024) });
    const response = await rawRequest(server.port, { path: '/api/predict', method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe('body_too_large');
    // Without a Content-Length (chunked), the limit holds while reading.
    const chunked = await rawRequest(server.port, { path: '/api/predict', method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body });
    expect([413, -1]).toContain(chunked.status);
    expect(executor.calls).toBe(0);
  });

  it('refuses an input over the length limit and an empty one', async () => {
    const long = await rawRequest(server.port, { path: '/api/predict', ...json({ input: 'y'.repeat(5000) }) });
    expect(long.status).toBe(413);
    expect(JSON.parse(long.body).error.code).toBe('input_too_long');
    const empty = await rawRequest(server.port, { path: '/api/predict', ...json({ input: '  ' }) });
    expect(JSON.parse(empty.body).error.code).toBe('empty_input');
    const wrong = await rawRequest(server.port, { path: '/api/predict', ...json({ text: 'hi' }) });
    expect(wrong.status).toBe(400);
  });

  it('guards static paths against traversal', async () => {
    for (const path of ['/../package.json', '/..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/..%5c..%5cpackage.json', '/%2e%2e%2fsrc%2fserver.ts', '/app.js%00.html', '/.hidden', '//etc/passwd']) {
      const response = await rawRequest(server.port, { path });
      expect(response.status, path).toBe(404);
      expect(response.body, path).not.toContain('@prompt2model/demo');
    }
  });

  it('answers unknown routes and wrong methods with JSON errors', async () => {
    expect((await rawRequest(server.port, { path: '/api/nothing' })).status).toBe(404);
    const get = await rawRequest(server.port, { path: '/api/predict' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('runs one model call at a time and answers 429 when the queue is full', async () => {
    const url = `http://127.0.0.1:${server.port}/api/predict`;
    const first = fetch(url, json({ input: 'one' }));
    await expect.poll(() => executor.calls, { timeout: 10_000 }).toBe(1);
    const second = fetch(url, json({ input: 'two' }));
    await queueDepth(server, 1);
    const third = await fetch(url, json({ input: 'three' }));
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('2');
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('busy');
    const streamed = await fetch(`http://127.0.0.1:${server.port}/api/predict/stream`, json({ input: 'four' }));
    expect(streamed.status).toBe(429);
    expect(executor.calls).toBe(1);
    executor.open();
    expect(((await (await first).json()) as { output: string }).output).toBe('ONE');
    expect(((await (await second).json()) as { output: string }).output).toBe('TWO');
    expect(executor.calls).toBe(2);
  });
});

describe('timeouts, model errors, tokens and keys', () => {
  it('answers 504 when the model is too slow, and the next request still runs after it', async () => {
    const executor = gatedExecutor();
    const server = await startDemoServer({ executor, context: await contextFor('timeout'), port: 0, timeoutMs: 500, info: PLAIN_INFO });
    try {
      const slow = await fetch(new URL('/api/predict', server.url), json({ input: 'slow' }));
      expect(slow.status).toBe(504);
      expect(((await slow.json()) as { error: { code: string } }).error.code).toBe('timeout');
      executor.open();
      const next = await fetch(new URL('/api/predict', server.url), json({ input: 'next' }));
      expect(((await next.json()) as { output: string }).output).toBe('NEXT');
      expect(executor.calls).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('runs a provider model with its key on the server only, and reports model errors in words without the key', async () => {
    const apiKey = 'sk-demo-test-0123456789abcdefghij';
    const teacher: OpenAICompatibleServer = await startOpenAICompatibleServer({ apiKey, respond: (request) => (lastUserText(request).includes('fail') ? '' : `echo: ${lastUserText(request)}`) });
    const failing = createOpenAI({ baseURL: teacher.url, apiKey: 'sk-wrong-key-0123456789abcdefghij' })('ft:gpt-4o-mini:org::demo');
    const creator = createDemoCreator({ port: 0, languageModelFor: (id) => createOpenAI({ baseURL: teacher.url, apiKey })(id) });
    const context = await contextFor('provider');
    const managed: TrainedModel = { ...localModel('ft:gpt-4o-mini:org::demo'), kind: 'managed-model', backend: 'openai' };
    const demo = await creator.create(managed, spec, context);
    try {
      const answer = (await (await fetch(new URL('/api/predict', demo.url), json({ input: 'hello' }))).json()) as { output: string };
      expect(answer.output).toBe('echo: hello');
      expect(teacher.requests.at(-1)?.messages[0]).toMatchObject({ role: 'system', content: spec.instruction });
      for (const path of ['/', '/app.js', '/api/info', '/healthz']) {
        expect(await (await fetch(new URL(path, demo.url))).text()).not.toContain(apiKey);
      }
      const broken = await startDemoServer({
        executor: new LanguageModelExecutor({ model: failing }),
        context: await contextFor('provider-broken'),
        port: 0,
        info: PLAIN_INFO,
      });
      try {
        const response = await fetch(new URL('/api/predict', broken.url), json({ input: 'hello' }));
        expect(response.status).toBe(502);
        const text = await response.text();
        expect(JSON.parse(text).error.code).toBe('model_error');
        expect(text).not.toContain('sk-wrong-key-0123456789abcdefghij');
      } finally {
        await broken.close();
      }
    } finally {
      await demo.close();
      await teacher.close();
    }
  });

  it('formats inputs with the training prompt, exactly as training and evaluation', async () => {
    const dir = join(root, 'prompt-probe');
    // Answers "formatted" only when the input carries the training prompt's "Label:" line.
    await buildTinySeq2Seq(dir, { answers: { label: 'formatted' }, answerFrom: 'keywords' });
    const executor = demoExecutorFor(localModel(dir), spec);
    const context = await contextFor('prompt-probe');
    try {
      expect((await executor.execute(['anything'], context))[0]!.output).toBe('formatted');
      expect(formatTrainingPrompt(spec.instruction, 'anything')).toContain('Label:');
      const raw = new OnnxExecutor({ model: dir });
      expect((await raw.execute(['anything'], context))[0]!.output).toBe('');
      await raw.dispose();
    } finally {
      await executor.dispose?.();
    }
  });

  it('runs a PyTorch folder through the predict worker, inputs in the training prompt', async () => {
    const folder = join(root, 'pytorch');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'model.safetensors'), '');
    await writeFile(join(folder, 'config.json'), '{}');
    const worker = [process.execPath, resolve(import.meta.dirname, 'fixtures/echo-predict-worker.mjs')];
    const executor = demoExecutorFor(localModel(folder), spec, { executors: workerExecutors({ workerCommand: worker }) });
    expect(executor).toBeInstanceOf(WorkerExecutor);
    const server = await startDemoServer({ executor, context: await contextFor('pytorch'), port: 0, info: { title: 't', instruction: spec.instruction, examples: [], model: { id: 'm', runtime: executor.name } } });
    try {
      const answer = (await (await fetch(new URL('/api/predict', server.url), json({ input: 'so good' }))).json()) as { output: string };
      expect(answer.output).toBe(`echo ${formatTrainingPrompt(spec.instruction, 'so good')}`);
    } finally {
      await server.close();
    }
  });

  it('needs an access token beyond loopback, and then checks it on every request', async () => {
    const executor = new LanguageModelExecutor({ model: new MockLanguageModel({ respond: 'ok' }) });
    const context = await contextFor('token');
    await expect(startDemoServer({ executor, context, host: '0.0.0.0', port: 0, info: PLAIN_INFO })).rejects.toThrow(/access token/);
    const warnings: string[] = [];
    const server = await startDemoServer({
      executor,
      context,
      host: '0.0.0.0',
      port: 0,
      accessToken: 'tok-123',
      log: (level, message) => level === 'warn' && warnings.push(message),
      info: PLAIN_INFO,
    });
    try {
      expect(warnings.join('\n')).toMatch(/reachable from other machines/);
      expect(server.url).toContain('?token=tok-123');
      expect((await rawRequest(server.port, { path: '/api/info' })).status).toBe(401);
      expect((await rawRequest(server.port, { path: '/api/info', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await rawRequest(server.port, { path: '/api/info', headers: { Authorization: 'Bearer tok-123' } })).status).toBe(200);
      const entry = await rawRequest(server.port, { path: '/?token=tok-123' });
      expect(entry.status).toBe(303);
      expect(String(entry.headers['set-cookie'])).toMatch(/p2m_demo_token=tok-123; HttpOnly; SameSite=Strict/);
      expect((await rawRequest(server.port, { path: '/api/predict', ...json({ input: 'x' }, { Cookie: 'p2m_demo_token=tok-123' }) })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('decides loopback from the resolved address: a name that starts with "127." is not loopback and needs a token', async () => {
    const executor = gatedExecutor();
    const context = await contextFor('name-127');
    await expect(startDemoServer({ executor, context, host: '127.0.0.1.nip.invalid', port: 0, info: PLAIN_INFO })).rejects.toThrow(/needs an access token/);
    // A real loopback address (any of 127.0.0.0/8) and localhost need none.
    const server = await startDemoServer({ executor, context, host: '127.0.0.2', port: 0, info: PLAIN_INFO });
    await server.close();
  });

  it('beyond loopback, /healthz needs the token too', async () => {
    const executor = new LanguageModelExecutor({ model: new MockLanguageModel({ respond: 'ok' }) });
    const server = await startDemoServer({ executor, context: await contextFor('healthz'), host: '0.0.0.0', port: 0, accessToken: 'tok-456', info: PLAIN_INFO });
    try {
      expect((await rawRequest(server.port, { path: '/healthz' })).status).toBe(401);
      expect((await rawRequest(server.port, { path: '/healthz', headers: { Authorization: 'Bearer tok-456' } })).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('a model error (502) names no absolute server path; the server log keeps the full message', async () => {
    const failing: Executor = {
      specificationVersion: 'v1',
      name: 'failing',
      modelId: 'failing',
      async execute() {
        throw new Error('Load failed for /home/alice/secret-runs/task/training/output/onnx/decoder_model.onnx: file not found');
      },
    };
    const logs: string[] = [];
    const server = await startDemoServer({ executor: failing, context: await contextFor('paths'), port: 0, info: PLAIN_INFO, log: (_level, message) => logs.push(message) });
    try {
      const response = await rawRequest(server.port, { path: '/api/predict', ...json({ input: 'x' }) });
      expect(response.status).toBe(502);
      expect(response.body).toContain('decoder_model.onnx');
      expect(response.body).not.toContain('/home/alice');
      expect(response.body).not.toContain('secret-runs');
      expect(logs.join('\n')).toContain('/home/alice/secret-runs/task/training/output/onnx/decoder_model.onnx');
    } finally {
      await server.close();
    }
  });

  it('says how to fix a port in use', async () => {
    const executor = gatedExecutor();
    const context = await contextFor('port');
    const first = await startDemoServer({ executor, context, port: 0, info: PLAIN_INFO });
    try {
      await expect(startDemoServer({ executor, context, port: first.port, info: PLAIN_INFO })).rejects.toMatchObject({
        message: expect.stringContaining('in use'),
        hint: expect.stringContaining('Pick another `port` (0 picks any free one)'),
      });
    } finally {
      await first.close();
    }
  });
});

describe('bounds on flags and inputs', () => {
  const echo: Executor = {
    specificationVersion: 'v1',
    name: 'echo',
    modelId: 'echo',
    async execute(inputs: string[]) {
      return inputs.map((input) => ({ output: `${input.length}`, latencyMs: 1 }));
    },
  };

  it('refuses a flag field over the size cap with 413, and keeps the file as it was', async () => {
    const context = await contextFor('flag-size');
    const server = await startDemoServer({ executor: echo, info: PLAIN_INFO, context, port: 0 });
    try {
      const big = await fetch(new URL('/api/flag', server.url), json({ input: 'x', output: 'o'.repeat(9000), verdict: 'incorrect' }));
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'flag_too_large', message: expect.stringContaining('8192') });
      const comment = await fetch(new URL('/api/flag', server.url), json({ input: 'x', output: 'y', verdict: 'other', comment: 'c'.repeat(8193) }));
      expect(comment.status).toBe(413);
      // Past the body guard: refused before parsing.
      const huge = await fetch(new URL('/api/flag', server.url), json({ input: 'x'.repeat(100_000), output: 'y', verdict: 'other' }));
      expect(huge.status).toBe(413);
      expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
      const fine = await fetch(new URL('/api/flag', server.url), json({ input: 'x', output: 'o'.repeat(8192), verdict: 'correct' }));
      expect(fine.status).toBe(200);
      const rows = (await readFile(context.store.path('demo/flagged.jsonl'), 'utf8')).trim().split('\n');
      expect(rows).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('answers the 31st flag within a minute from one client with 429 and Retry-After', async () => {
    const context = await contextFor('flag-rate');
    const server = await startDemoServer({ executor: echo, info: PLAIN_INFO, context, port: 0 });
    try {
      // The bucket refills at one flag per 2 s: on a loaded machine a slow loop earns a few more.
      const started = performance.now();
      let accepted = 0;
      let refused: Response | undefined;
      while (!refused && accepted < 60) {
        const response = await fetch(new URL('/api/flag', server.url), json({ input: `i${accepted}`, output: 'o', verdict: 'correct' }));
        if (response.status === 200) accepted++;
        else refused = response;
      }
      const earned = Math.floor((performance.now() - started) / 2000);
      expect(accepted).toBeGreaterThanOrEqual(30);
      expect(accepted).toBeLessThanOrEqual(30 + earned);
      if (!refused) throw new Error('no flag was refused');
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      const rows = (await readFile(context.store.path('demo/flagged.jsonl'), 'utf8')).trim().split('\n');
      expect(rows).toHaveLength(accepted);
      // Predictions are not counted against the flag budget.
      expect((await fetch(new URL('/api/predict', server.url), json({ input: 'still answered' }))).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('refills the flag budget over the minute, per client, and Retry-After says when', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 30, perMs: 60_000, now: () => now });
    for (let index = 0; index < 30; index++) limiter.take('a');
    let refused: unknown;
    try {
      limiter.take('a');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '2' } });
    // Another client has its own bucket.
    expect(() => limiter.take('b')).not.toThrow();
    now += 2000;
    expect(() => limiter.take('a')).not.toThrow();
    expect(() => limiter.take('a')).toThrow(/Too many/);
  });

  it('refuses a flag that would grow flagged.jsonl past its cap with 507 and says what to do', async () => {
    const context = await contextFor('flag-file');
    const logs: string[] = [];
    const server = await startDemoServer({ executor: echo, info: PLAIN_INFO, context, port: 0, maxFlagFileBytes: 1000, log: (_level, message) => logs.push(message) });
    try {
      let status = 200;
      let count = 0;
      while (status === 200 && count < 29) {
        status = (await fetch(new URL('/api/flag', server.url), json({ input: 'i'.repeat(100), output: 'o', verdict: 'correct' }))).status;
        count++;
      }
      expect(status).toBe(507);
      const { size } = await stat(context.store.path('demo/flagged.jsonl'));
      expect(size).toBeLessThanOrEqual(1000);
      const full = await fetch(new URL('/api/flag', server.url), json({ input: 'x', output: 'o', verdict: 'correct' }));
      expect(full.status).toBe(507);
      expect(((await full.json()) as { error: { message: string } }).error.message).toMatch(/full.*flagged\.jsonl/);
      expect(logs.some((line) => line.includes('limit'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses an over-long predict input with 413 input_too_long before the model runs; at the limit it runs', async () => {
    const context = await contextFor('input-limit');
    let calls = 0;
    const counting: Executor = { ...echo, execute: async (inputs: string[]) => ((calls += 1), echo.execute(inputs, context)) };
    const server = await startDemoServer({ executor: counting, info: PLAIN_INFO, context, port: 0, maxInputChars: 100 });
    try {
      const long = await fetch(new URL('/api/predict', server.url), json({ input: 'z'.repeat(101) }));
      expect(long.status).toBe(413);
      expect(await long.json()).toEqual({ error: { code: 'input_too_long', message: 'The input has 101 characters; the limit is 100.' } });
      const stream = await fetch(new URL('/api/predict/stream', server.url), json({ input: 'z'.repeat(101) }));
      expect(stream.status).toBe(413);
      expect(calls).toBe(0);
      const atLimit = await fetch(new URL('/api/predict', server.url), json({ input: 'z'.repeat(100) }));
      expect(await atLimit.json()).toMatchObject({ output: '100' });
      expect(calls).toBe(1);
    } finally {
      await server.close();
    }
  });
});

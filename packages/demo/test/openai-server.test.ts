import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, executorForModel, type Executor, type GenerationOptions, type Prediction, type PromptSpec, type StageContext, type TrainedModel } from '@prompt2model/core/internal';
import { evaluatorExecutors } from '@prompt2model/evaluator/internal';
import { buildTinyCausalLM, buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { DemoConfigError, startOpenAIServer, type OpenAIServer } from '../src/internal.js';
import { StopStringFilter } from '../src/openai-api/stop-strings.js';
import { rawRequest } from './support/http.js';

const spec: PromptSpec = { instruction: 'Classify the sentiment of the movie review as positive or negative.', examples: [], language: 'en' };
const localModel = (reference: string): TrainedModel => ({ backend: 'local', reference, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} });

let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-openai-server-'));
  modelDir = join(root, 'model');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function contextFor(name: string): Promise<StageContext> {
  return createStageContext({ outDir: join(root, name), cacheDir: false });
}

/** The real OpenAI SDK against a server, without retries (a 429 must reach the test). */
function clientOf(server: OpenAIServer, apiKey = ['sk', 'not-checked-on-loopback'].join('-')): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0 });
}

/**
 * An executor that records every call (inputs and options) and answers `input.toUpperCase()`;
 * `hold()` makes calls wait until `open()`. Extra fields per answer (`answeredBy`) come from `extra`.
 */
function recordingExecutor(options: { extra?: (input: string) => Partial<Prediction> & Record<string, unknown>; stream?: (input: string) => string[] } = {}) {
  let gate: Promise<void> | undefined;
  let release: () => void = () => undefined;
  const calls: Array<{ inputs: string[]; options: GenerationOptions | undefined }> = [];
  const answer = (input: string): Prediction => ({ output: input.toUpperCase(), latencyMs: 1, promptTokens: 3, outputTokens: 2, finishReason: 'stop', ...options.extra?.(input) });
  const executor: Executor & { calls: typeof calls; hold(): void; open(): void } = {
    specificationVersion: 'v1',
    name: 'recording',
    modelId: 'recording',
    calls,
    hold: () => {
      gate = new Promise((resolve) => (release = resolve));
    },
    open: () => {
      gate = undefined;
      release();
    },
    async execute(inputs, _context, generation) {
      calls.push({ inputs, options: generation });
      await gate;
      return inputs.map(answer);
    },
    ...(options.stream
      ? {
          async stream(input: string, _context: StageContext, onText: (text: string) => void, generation?: GenerationOptions) {
            calls.push({ inputs: [input], options: generation });
            await gate;
            for (const piece of options.stream!(input)) onText(piece);
            return { ...answer(input), output: options.stream!(input).join('') };
          },
        }
      : {}),
  };
  return executor;
}

async function queueDepth(server: OpenAIServer, depth: number): Promise<void> {
  await expect.poll(() => server.stats().queue, { timeout: 10_000 }).toBe(depth);
}

describe('the OpenAI API over the ONNX student, through the openai SDK', () => {
  let server: OpenAIServer;
  let client: OpenAI;
  let executor: Executor;

  beforeAll(async () => {
    // As the CLI builds it: core's executor table (inputs in the training prompt), batches of 8.
    executor = executorForModel(localModel(modelDir), spec, evaluatorExecutors({ onnx: { batchSize: 8 } }));
    server = await startOpenAIServer({ executor, context: await contextFor('onnx'), modelName: 'sentiment', port: 0 });
    client = clientOf(server);
  });

  afterAll(async () => {
    await server.close();
    await executor.dispose?.();
  });

  it('lists the model and answers a chat completion from the last user message, with usage', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['sentiment']);
    expect((await client.models.retrieve('sentiment')).owned_by).toBe('prompt2model');
    const { data: completion, response } = await client.chat.completions
      .create({
        model: 'sentiment',
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'It was boring' },
          { role: 'assistant', content: 'negative' },
          { role: 'user', content: [{ type: 'text', text: 'a great film' }] },
        ],
      })
      .withResponse();
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(response.headers.get('x-request-id')).toBe(completion.id);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({ index: 0, message: { role: 'assistant', content: 'positive' }, finish_reason: 'stop' });
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
    // A plain student does not say who answered.
    expect(response.headers.get('x-prompt2model-answered-by')).toBeNull();
  });

  it('answers text completions for several prompts with n choices each', async () => {
    const completion = await client.completions.create({ model: 'sentiment', prompt: ['a great film', 'boring and awful'], n: 2 });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, 'positive'],
      [1, 'positive'],
      [2, 'negative'],
      [3, 'negative'],
    ]);
    const echoed = await client.completions.create({ model: 'sentiment', prompt: 'a good movie', echo: true });
    expect(echoed.choices[0]!.text).toBe('a good moviepositive');
  });

  it('streams a chat completion as OpenAI does: role, content, finish, usage, [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'what an awful film' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const part of stream) chunks.push(part);
    expect(chunks[0]!.object).toBe('chat.completion.chunk');
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((part) => part.choices[0]?.delta.content ?? '').join('')).toBe('negative');
    expect(chunks.find((part) => part.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    // Every chunk carries usage: null but the last, which has no choices and the counts.
    expect(chunks.slice(0, -1).every((part) => part.usage === null)).toBe(true);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);
    // The wire format itself: `data: {...}` events ending with `data: [DONE]`.
    const raw = await fetch(`${server.url}/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'sentiment', prompt: 'good', stream: true }) });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0]!.slice(6))).toMatchObject({ object: 'text_completion', model: 'sentiment', choices: [{ index: 0, text: 'positive', finish_reason: null }] });
  });

  it('cuts answers at a stop string, streamed or not', async () => {
    const cut = await client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'a great film' }], stop: ['iti'] });
    expect(cut.choices[0]).toMatchObject({ message: { content: 'pos' }, finish_reason: 'stop' });
    const stream = await client.completions.create({ model: 'sentiment', prompt: 'a great film', stop: 'tive', stream: true });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.text ?? '';
    expect(text).toBe('posi');
  });

  it('answers errors in OpenAI\'s shape with the right statuses', async () => {
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      param: 'model',
      type: 'invalid_request_error',
    });
    await expect(client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'hi' }], temperature: 3 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'system', content: 'only a system message' }] })).rejects.toMatchObject({ status: 400, param: 'messages' });
    await expect(
      client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }] }),
    ).rejects.toMatchObject({ status: 400, param: 'tools', code: 'unsupported_parameter' });
    await expect(client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'hi' }], logprobs: true })).rejects.toMatchObject({ status: 400, param: 'logprobs' });
    await expect(client.completions.create({ model: 'sentiment', prompt: 'x'.repeat(4001) })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'prompt' });
    await expect(client.completions.create({ model: 'sentiment', prompt: 'hi', n: 17 })).rejects.toMatchObject({ status: 400, param: 'n' });
    await expect(client.completions.create({ model: 'sentiment', prompt: 'hi', max_tokens: 5000 })).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
    // The body itself: exactly {error: {message, type, param, code}}.
    const raw = await rawRequest(server.port, { method: 'POST', path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json', Host: `127.0.0.1:${server.port}` }, body: '{not json' });
    expect(raw.status).toBe(400);
    const body = JSON.parse(raw.body) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null });
    expect((await rawRequest(server.port, { path: '/v1/nothing', headers: { Host: `127.0.0.1:${server.port}` } })).status).toBe(404);
    const wrongMethod = await rawRequest(server.port, { path: '/v1/chat/completions', headers: { Host: `127.0.0.1:${server.port}` } });
    expect(wrongMethod.status).toBe(405);
    const tooLarge = await rawRequest(server.port, { method: 'POST', path: '/v1/completions', headers: { 'Content-Type': 'application/json', Host: `127.0.0.1:${server.port}` }, body: JSON.stringify({ model: 'sentiment', prompt: 'x'.repeat(300 * 1024) }) });
    expect(tooLarge.status === 413 || tooLarge.status === -1).toBe(true);
    // DNS rebinding: a foreign Host is refused on a keyless loopback server.
    expect((await rawRequest(server.port, { path: '/v1/models', headers: { Host: 'evil.example:80' } })).status).toBe(403);
  });

  it('gives a batch of concurrent requests the same answers as one at a time', async () => {
    const inputs = ['a great film', 'boring', 'I loved it', 'awful acting', 'good', 'bad bad bad', 'great great', 'the cat sat on the mat'];
    const alone: string[] = [];
    for (const input of inputs) alone.push((await client.completions.create({ model: 'sentiment', prompt: input })).choices[0]!.text);
    const callsBefore = server.stats().modelCalls.calls;
    const together = await Promise.all(inputs.map(async (input) => (await client.completions.create({ model: 'sentiment', prompt: input })).choices[0]!.text));
    expect(together).toEqual(alone);
    expect(alone.slice(0, 4)).toEqual(['positive', 'negative', 'positive', 'negative']);
    // Fewer model calls than requests: concurrent requests shared calls.
    expect(server.stats().modelCalls.calls - callsBefore).toBeLessThan(inputs.length);
  });
});

describe('generation options reach the ONNX executor (a tiny causal LM: "the cat is sleeping")', () => {
  let server: OpenAIServer;
  let client: OpenAI;
  let executor: Executor;

  beforeAll(async () => {
    const dir = join(root, 'causal');
    // The training prompt ends with "Label:" and a newline: the answer follows ":".
    await buildTinyCausalLM(dir, { next: { ':': 'the', the: 'cat', cat: 'is', is: 'sleeping' } });
    executor = executorForModel(localModel(dir), spec, evaluatorExecutors({ onnx: { batchSize: 8 } }));
    server = await startOpenAIServer({ executor, context: await contextFor('causal'), modelName: 'cat', port: 0 });
    client = clientOf(server);
  });

  afterAll(async () => {
    await server.close();
    await executor.dispose?.();
  });

  it('stops at max_tokens with finish_reason "length", and counts tokens with the model\'s tokenizer', async () => {
    const whole = await client.completions.create({ model: 'cat', prompt: 'hello' });
    expect(whole.choices[0]).toMatchObject({ text: 'the cat is sleeping', finish_reason: 'stop' });
    expect(whole.usage!.completion_tokens).toBe(4);
    const short = await client.chat.completions.create({ model: 'cat', messages: [{ role: 'user', content: 'hello' }], max_completion_tokens: 2 });
    expect(short.choices[0]).toMatchObject({ message: { content: 'the cat' }, finish_reason: 'length' });
    expect(short.usage).toMatchObject({ completion_tokens: 2, prompt_tokens: whole.usage!.prompt_tokens });
    const stopped = await client.completions.create({ model: 'cat', prompt: 'hello', stop: [' is'] });
    expect(stopped.choices[0]).toMatchObject({ text: 'the cat', finish_reason: 'stop' });
  });

  it('streams token by token, and batches requests with different limits apart', async () => {
    const stream = await client.chat.completions.create({ model: 'cat', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let usage;
    for await (const part of stream) {
      if (part.choices[0]?.delta.content) pieces.push(part.choices[0].delta.content);
      if (part.usage) usage = part.usage;
    }
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('the cat is sleeping');
    expect(usage).toMatchObject({ completion_tokens: 4 });
    const answers = await Promise.all([1, 2, 3, 4, 1, 2].map(async (max) => (await client.completions.create({ model: 'cat', prompt: 'hello', max_tokens: max })).choices[0]!.text));
    expect(answers).toEqual(['the', 'the cat', 'the cat is', 'the cat is sleeping', 'the', 'the cat']);
  });
});

describe('batching, load and who answered (recording executors)', () => {
  it('batches waiting requests into one call, only those with the same generation options', async () => {
    const executor = recordingExecutor();
    const server = await startOpenAIServer({ executor, context: await contextFor('batching'), modelName: 'm', port: 0, batchWindowMs: 0 });
    const client = clientOf(server);
    try {
      executor.hold();
      const first = client.completions.create({ model: 'm', prompt: 'first' });
      await expect.poll(() => executor.calls.length).toBe(1);
      const short = ['a', 'b', 'c'].map((prompt) => client.completions.create({ model: 'm', prompt, max_tokens: 5 }));
      const long = ['d', 'e'].map((prompt) => client.completions.create({ model: 'm', prompt, max_tokens: 6 }));
      const sampled = client.completions.create({ model: 'm', prompt: 'f', max_tokens: 5, temperature: 0.7, seed: 11, n: 2 });
      await queueDepth(server, 7);
      executor.open();
      const answers = await Promise.all([first, ...short, ...long].map(async (request) => (await request).choices[0]!.text));
      expect(answers).toEqual(['FIRST', 'A', 'B', 'C', 'D', 'E']);
      expect((await sampled).choices.map((choice) => choice.text)).toEqual(['F', 'F']);
      expect(executor.calls.map((call) => call.inputs)).toEqual([['first'], ['a', 'b', 'c'], ['d', 'e'], ['f'], ['f']]);
      expect(executor.calls[1]!.options).toEqual({ maxNewTokens: 5 });
      // Sampled choices get seed, seed + 1: different, repeatable answers.
      expect(executor.calls.slice(3).map((call) => call.options)).toEqual([
        { maxNewTokens: 5, temperature: 0.7, seed: 11 },
        { maxNewTokens: 5, temperature: 0.7, seed: 12 },
      ]);
      expect(server.stats().modelCalls).toMatchObject({ calls: 5, inputs: 8, largestBatch: 3 });
    } finally {
      await server.close();
    }
  });

  it('answers 429 with Retry-After in OpenAI\'s shape when the queue is full, and 504 past the timeout', async () => {
    const executor = recordingExecutor();
    const server = await startOpenAIServer({ executor, context: await contextFor('load'), modelName: 'm', port: 0, maxQueue: 2, maxBatch: 1, timeoutMs: 60_000 });
    const client = clientOf(server);
    try {
      executor.hold();
      const running = client.completions.create({ model: 'm', prompt: 'one' });
      await expect.poll(() => executor.calls.length).toBe(1);
      const waiting = [client.completions.create({ model: 'm', prompt: 'two' }), client.completions.create({ model: 'm', prompt: 'three' })];
      await queueDepth(server, 2);
      const refused = await client.completions.create({ model: 'm', prompt: 'four' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
      expect(refused).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
      expect((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
      // A stream is refused before it starts, as a plain 429.
      await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'five' }], stream: true })).rejects.toMatchObject({ status: 429 });
      executor.open();
      expect((await running).choices[0]!.text).toBe('ONE');
      expect((await Promise.all(waiting)).map((answer) => answer.choices[0]!.text)).toEqual(['TWO', 'THREE']);
      expect(server.stats().requests.rejected).toBe(2);
    } finally {
      await server.close();
    }
    const slow = recordingExecutor();
    const timed = await startOpenAIServer({ executor: slow, context: await contextFor('timeout'), modelName: 'm', port: 0, timeoutMs: 300 });
    try {
      slow.hold();
      await expect(clientOf(timed).completions.create({ model: 'm', prompt: 'slow' })).rejects.toMatchObject({ status: 504, type: 'server_error', code: 'timeout' });
      slow.open();
    } finally {
      await timed.close();
    }
  });

  it('says who answered: a header for a single answer, a field per choice, counts in /v1/stats', async () => {
    const executor = recordingExecutor({ extra: (input) => ({ answeredBy: input.includes('hard') ? 'teacher' : 'student' }) });
    const server = await startOpenAIServer({ executor, context: await contextFor('cascade'), modelName: 'm', port: 0 });
    const client = clientOf(server);
    try {
      const { data, response } = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'a hard one' }] }).withResponse();
      expect(response.headers.get('x-prompt2model-answered-by')).toBe('teacher');
      expect((data.choices[0] as unknown as { answered_by: string }).answered_by).toBe('teacher');
      const several = await client.completions.create({ model: 'm', prompt: ['easy', 'easy too', 'hard'] });
      expect(several.choices.map((choice) => (choice as unknown as { answered_by: string }).answered_by)).toEqual(['student', 'student', 'teacher']);
      const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'easy' }], stream: true });
      const finals = [];
      for await (const part of stream) if (part.choices[0]?.finish_reason) finals.push(part.choices[0]);
      expect((finals[0] as unknown as { answered_by: string }).answered_by).toBe('student');
      const stats = (await (await fetch(`${server.url}/stats`)).json()) as { answers: { total: number; answeredBy: { student: number; teacher: number } }; requests: { chat: number; completions: number; streamed: number } };
      expect(stats.answers).toEqual({ total: 5, answeredBy: { student: 3, teacher: 2 } });
      expect(stats.requests).toMatchObject({ chat: 2, completions: 1, streamed: 1 });
    } finally {
      await server.close();
    }
  });

  it('streams a streaming executor token by token, holding back a stop string split across pieces', async () => {
    const executor = recordingExecutor({ stream: () => ['pos', 'it', 'ive', ' and more'] });
    const server = await startOpenAIServer({ executor, context: await contextFor('streaming'), modelName: 'm', port: 0 });
    try {
      const stream = await clientOf(server).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stop: ['tive'], max_tokens: 7 });
      const pieces: string[] = [];
      for await (const part of stream) if (part.choices[0]?.delta.content) pieces.push(part.choices[0].delta.content);
      expect(pieces.join('')).toBe('posi');
      expect(executor.calls[0]!.options).toEqual({ maxNewTokens: 7, stop: ['tive'] });
    } finally {
      await server.close();
    }
    const sent: string[] = [];
    const filter = new StopStringFilter(['</s>'], (text) => sent.push(text));
    for (const piece of ['a <', '/', 's', '> b']) filter.push(piece);
    filter.flush();
    expect(sent.join('')).toBe('a ');
  });

  it('reports a model failure as a 502 in OpenAI\'s shape, and inside a stream that has started as an error event the SDK raises', async () => {
    const failing: Executor = {
      specificationVersion: 'v1',
      name: 'failing',
      modelId: 'failing',
      async execute() {
        throw new Error('onnxruntime failed reading /home/someone/models/student/onnx/decoder_model_merged.onnx');
      },
      async stream(_input, _context, onText) {
        onText('partial');
        throw new Error('the session died at /home/someone/models/student');
      },
    };
    const server = await startOpenAIServer({ executor: failing, context: await contextFor('failing'), modelName: 'm', port: 0 });
    const client = clientOf(server);
    try {
      const error = await client.completions.create({ model: 'm', prompt: 'x' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ status: 502, type: 'server_error', code: 'model_error' });
      // The client learns what failed, not where the server keeps its files.
      expect((error as Error).message).toContain('decoder_model_merged.onnx');
      expect((error as Error).message).not.toContain('/home/someone');
      const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
      const pieces: string[] = [];
      const raised = await (async () => {
        for await (const part of stream) if (part.choices[0]?.delta.content) pieces.push(part.choices[0].delta.content);
      })().catch((caught: unknown) => caught);
      expect(pieces).toEqual(['partial']);
      expect(raised).toBeInstanceOf(OpenAI.APIError);
      expect((raised as Error).message).toMatch(/The model failed: the session died/);
      expect(server.stats().requests.failed).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('needs an API key beyond loopback, sent as a bearer token', async () => {
    const executor = recordingExecutor();
    await expect(startOpenAIServer({ executor, context: await contextFor('open'), modelName: 'm', host: '0.0.0.0', port: 0 })).rejects.toBeInstanceOf(DemoConfigError);
    const apiKey = 'p2m-serve-test-key-0123456789';
    const server = await startOpenAIServer({ executor, context: await contextFor('keyed'), modelName: 'm', host: '0.0.0.0', port: 0, apiKey });
    try {
      await expect(clientOf(server, 'wrong-key').models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
      expect((await fetch(`${server.url}/models`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(401);
      expect((await clientOf(server, apiKey).completions.create({ model: 'm', prompt: 'hi' })).choices[0]!.text).toBe('HI');
    } finally {
      await server.close();
    }
  });
});

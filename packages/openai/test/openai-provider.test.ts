import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  APICallError,
  BudgetExceededError,
  CostLedger,
  LanguageModelClient,
  LLMCallCache,
  RequestScheduler,
  ValidationError,
} from '@prompt2model/core/internal';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { createOpenAI } from '../src/internal.js';

let server: OpenAICompatibleServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-openai-'));
  dirs.push(dir);
  return dir;
}

describe('OpenAIChatLanguageModel', () => {
  it('sends the chat request through the real SDK and returns n choices with usage', async () => {
    server = await startOpenAICompatibleServer({ apiKey: 'sk-test-abcdefghijklmnop', respond: (_r, info) => `answer ${info.choiceIndex}` });
    const model = createOpenAI({ baseURL: server.url, apiKey: 'sk-test-abcdefghijklmnop' })('gpt-4o-mini');
    const response = await model.doGenerate({ messages: [{ role: 'user', content: 'hi' }], n: 3, temperature: 0.7, maxTokens: 20, seed: 7 });
    expect(response.choices.map((c) => c.text)).toEqual(['answer 0', 'answer 1', 'answer 2']);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    const sent = server.requests[0]!;
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', n: 3, temperature: 0.7, max_tokens: 20, seed: 7 });
  });

  it('maps HTTP errors to APICallError with status, retryability and Retry-After, without leaking the key', async () => {
    server = await startOpenAICompatibleServer({ faultSequence: ['rate-limit'], retryAfterSeconds: 2 });
    const key = 'sk-secret-0123456789abcdefghij';
    const model = createOpenAI({ baseURL: server.url, apiKey: key })('m');
    const error = await model.doGenerate({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    const apiError = error as APICallError;
    expect(apiError.statusCode).toBe(429);
    expect(apiError.isRetryable).toBe(true);
    expect(apiError.retryAfterMs).toBe(2000);
    expect(JSON.stringify({ m: apiError.message, b: apiError.responseBody, u: apiError.url })).not.toContain(key);

    await server.close();
    server = await startOpenAICompatibleServer({ apiKey: 'sk-other-key-000000000000' });
    const denied = (await createOpenAI({ baseURL: server.url, apiKey: key })('m')
      .doGenerate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)) as APICallError;
    expect(denied.statusCode).toBe(401);
    expect(denied.isRetryable).toBe(false);
    expect(denied.hint).toMatch(/API key/);
  });

  it('falls back from json_schema to json_object when the server lacks json_schema support', async () => {
    server = await startOpenAICompatibleServer({ jsonSchemaSupport: false, respond: () => '{"label":"positive"}' });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('m') });
    const { object } = await client.generateObject(
      { messages: [{ role: 'user', content: 'classify' }] },
      z.object({ label: z.enum(['positive', 'negative']) }),
    );
    expect(object.label).toBe('positive');
    const formats = server.requests.map((r) => r.response_format?.type);
    expect(formats).toEqual(['json_schema', 'json_object']);
    // The schema travels in the prompt once the server cannot take it.
    expect(server.requests[1]!.messages[0]!.content).toContain('"label"');
    // Later calls go straight to the mode that works.
    await client.generateObject({ messages: [{ role: 'user', content: 'again' }] }, z.object({ label: z.string() }));
    expect(server.requests.at(-1)!.response_format?.type).toBe('json_object');
  });

  it('feeds validation errors back and gives a clear error after repeated malformed JSON', async () => {
    server = await startOpenAICompatibleServer({ respond: () => '{"label": ' });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('m') });
    const error = await client
      .generateObject({ messages: [{ role: 'user', content: 'x' }] }, z.object({ label: z.string() }), { maxAttempts: 3 })
      .catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    // Three identical failures are one issue line, not three.
    expect((error as ValidationError).issues).toEqual([expect.objectContaining({ path: 'all 3 attempts' })]);
    expect(server.stats.requests).toBe(3);
    expect(JSON.stringify(server.requests[1]!.messages)).toContain('not valid');
  });
});

describe('scheduler against the loopback server', () => {
  it('loses no request under injected 429/5xx/truncated faults and never trips the rate limit', async () => {
    // 1200 RPM enforced over a 1 s sliding window: at most 20 requests in any second.
    server = await startOpenAICompatibleServer({
      requestsPerMinute: 1200,
      rateLimitWindowMs: 1000,
      latencyMs: 20,
      retryAfterSeconds: 0,
      faults: { rate: 0.15, kinds: ['rate-limit', 'server-error', 'unavailable', 'truncated'], seed: 3 },
      respond: (request) => `echo:${request.messages.at(-1)!.content as string}`,
    });
    const scheduler = new RequestScheduler({ maxConcurrency: 8, requestsPerMinute: 1200, initialBackoffMs: 20, maxBackoffMs: 200 });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('m'), scheduler });
    const total = 40;
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) => client.generate({ messages: [{ role: 'user', content: `q${i}` }] })),
    );
    expect(results.map((r) => r.choices[0]!.text)).toEqual(Array.from({ length: total }, (_, i) => `echo:q${i}`));
    expect(server.stats.faultsInjected).toBeGreaterThan(0);
    expect(server.stats.rateLimited).toBe(0); // no 429 caused by us
    expect(server.stats.maxRequestsInWindow).toBeLessThanOrEqual(20);
    expect(scheduler.stats.retries).toBe(server.stats.faultsInjected);
    expect(scheduler.stats.succeeded).toBe(total);
  });

  it('honours Retry-After before retrying', async () => {
    server = await startOpenAICompatibleServer({ faultSequence: ['rate-limit', 'ok'], retryAfterSeconds: 1 });
    const scheduler = new RequestScheduler({ initialBackoffMs: 1 });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('m'), scheduler });
    await client.generate({ messages: [{ role: 'user', content: 'x' }] });
    const [first, second] = server.stats.arrivals;
    expect(second! - first!).toBeGreaterThanOrEqual(950);
  });

  it('retries a timed-out (slow) request and does not retry a 400', async () => {
    server = await startOpenAICompatibleServer({ faultSequence: ['slow', 'ok'], slowMs: 2000 });
    const scheduler = new RequestScheduler({ timeoutMs: 300, initialBackoffMs: 1 });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('m'), scheduler });
    const result = await client.generate({ messages: [{ role: 'user', content: 'slow' }] });
    expect(result.choices[0]!.text).toBe('slow');
    expect(scheduler.stats.retries).toBe(1);

    const bad = await client.generate({ messages: [{ role: 'user', content: 'x' }], n: 1000 }).catch((e: unknown) => e);
    expect((bad as APICallError).statusCode).toBe(400);
    expect(scheduler.stats.retries).toBe(1);
  });
});

describe('cache and budget', () => {
  it('a rerun with the same cache makes zero HTTP calls; repeated samples stay distinct', async () => {
    let counter = 0;
    server = await startOpenAICompatibleServer({ respond: () => `sample-${counter++}` });
    const cacheDir = await tempDir();
    const run = async () => {
      const client = new LanguageModelClient({
        model: createOpenAI({ baseURL: server!.url, apiKey: 'k' })('m'),
        cache: new LLMCallCache(cacheDir),
      });
      const request = { messages: [{ role: 'user' as const, content: 'same prompt' }], temperature: 1 };
      const a = await client.generate(request, { sampleIndex: 0 });
      const b = await client.generate(request, { sampleIndex: 1 });
      return [a, b];
    };
    const first = await run();
    expect(first.map((r) => r.cached)).toEqual([false, false]);
    expect(first[0]!.choices[0]!.text).not.toBe(first[1]!.choices[0]!.text);
    expect(server.stats.requests).toBe(2);
    const second = await run();
    expect(server.stats.requests).toBe(2);
    expect(second.map((r) => r.cached)).toEqual([true, true]);
    expect(second.map((r) => r.choices[0]!.text)).toEqual(first.map((r) => r.choices[0]!.text));
  });

  it('the budget cap stops new spending with a clear error', async () => {
    server = await startOpenAICompatibleServer({ respond: () => ' word'.repeat(1000) });
    // gpt-4o: $10 per 1M output tokens; each answer is ~1000 tokens = $0.01.
    const ledger = new CostLedger({ maxCostUsd: 0.035 });
    const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('gpt-4o'), ledger });
    let error: unknown;
    let made = 0;
    for (let i = 0; i < 10; i++) {
      try {
        await client.generate({ messages: [{ role: 'user', content: `q${i}` }] });
        made++;
      } catch (e) {
        error = e;
        break;
      }
    }
    expect(BudgetExceededError.isInstance(error)).toBe(true);
    expect((error as BudgetExceededError).hint).toMatch(/`maxCostUsd`/);
    expect(made).toBe(4);
    expect(server.stats.requests).toBe(4);
    expect(ledger.totalUsd).toBeGreaterThan(0.035);
    expect(ledger.totalUsd).toBeLessThan(0.05);
  });
});

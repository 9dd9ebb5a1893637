import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { APICallError, LanguageModelClient, RequestScheduler } from '@prompt2model/core';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { createHuggingFace } from '../src/index.js';

let server: OpenAICompatibleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('HuggingFaceChatLanguageModel (custom endpoint, real @huggingface/inference client)', () => {
  it('calls <endpoint>/v1/chat/completions and returns text and usage', async () => {
    server = await startOpenAICompatibleServer({ respond: () => 'bonjour' });
    const model = createHuggingFace({ endpointUrl: server.url.replace(/\/v1$/, ''), accessToken: 'hf_faketoken123' })('tgi');
    const response = await model.doGenerate({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 16, temperature: 0.2 });
    expect(response.choices[0]!.text).toBe('bonjour');
    expect(response.usage.outputTokens).toBeGreaterThan(0);
    expect(server.requests[0]).toMatchObject({ max_tokens: 16, temperature: 0.2 });
  });

  it('maps 5xx to a retryable APICallError that the scheduler retries, and redacts the token', async () => {
    server = await startOpenAICompatibleServer({ faultSequence: ['server-error', 'ok'], respond: () => 'ok' });
    const token = 'hf_fakesecret456';
    const model = createHuggingFace({ endpointUrl: server.url.replace(/\/v1$/, ''), accessToken: token })('tgi');
    const raw = await model.doGenerate({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(APICallError.isInstance(raw)).toBe(true);
    expect((raw as APICallError).statusCode).toBe(500);
    expect((raw as APICallError).isRetryable).toBe(true);
    expect(JSON.stringify({ m: (raw as Error).message, b: (raw as APICallError).responseBody })).not.toContain(token);

    server.reset();
    const client = new LanguageModelClient({ model, scheduler: new RequestScheduler({ initialBackoffMs: 1 }) });
    const result = await client.generate({ messages: [{ role: 'user', content: 'x' }] });
    expect(result.choices[0]!.text).toBe('ok');
    expect(server.stats.requests).toBe(2);
  });

  it('structured output falls back to a schema in the prompt when the server rejects json_schema', async () => {
    server = await startOpenAICompatibleServer({ jsonSchemaSupport: false, respond: () => '{"answer": 4}' });
    const model = createHuggingFace({ endpointUrl: server.url.replace(/\/v1$/, '') })('tgi');
    const client = new LanguageModelClient({ model });
    const { object } = await client.generateObject({ messages: [{ role: 'user', content: '2+2' }] }, z.object({ answer: z.number() }));
    expect(object.answer).toBe(4);
    expect(server.requests.map((r) => r.response_format?.type ?? 'none')).toEqual(['json_schema', 'none']);
  });
});

describe('createHuggingFace resolves the settings, the model uses them', () => {
  it('uses the passed token and endpoint, not bogus HF_TOKEN / HF_ENDPOINT_URL in process.env', async () => {
    const saved = { HF_TOKEN: process.env.HF_TOKEN, HF_ENDPOINT_URL: process.env.HF_ENDPOINT_URL };
    process.env.HF_TOKEN = 'hf_bogus_from_process_env';
    process.env.HF_ENDPOINT_URL = 'http://127.0.0.1:9/bogus';
    try {
      server = await startOpenAICompatibleServer({ apiKey: 'hf_passed_token_123', respond: () => 'passed' });
      const model = createHuggingFace({ endpointUrl: server.url.replace(/\/v1$/, ''), accessToken: 'hf_passed_token_123' })('tgi');
      expect((await model.doGenerate({ messages: [{ role: 'user', content: 'x' }] })).choices[0]!.text).toBe('passed');
      // An env object is read instead of process.env when given.
      const fromEnv = createHuggingFace({ env: { HF_ENDPOINT_URL: server.url.replace(/\/v1$/, ''), HF_TOKEN: 'hf_passed_token_123' } });
      expect((await fromEnv('tgi').doGenerate({ messages: [{ role: 'user', content: 'x' }] })).choices[0]!.text).toBe('passed');
      expect(fromEnv.config.endpointUrl).toBe(server.url.replace(/\/v1$/, ''));
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoadSettingError } from '@prompt2model/core';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { createOpenAI } from '../src/index.js';

// The provider factory resolves the settings once; the models it creates never look at
// process.env. Each test fills process.env with bogus values that would fail every request.
const BOGUS = { OPENAI_API_KEY: 'sk-bogus-from-process-env-000000', OPENAI_BASE_URL: 'http://127.0.0.1:9/bogus/v1' };
let saved: Record<string, string | undefined> = {};
let server: OpenAICompatibleServer | undefined;

beforeEach(() => {
  saved = { OPENAI_API_KEY: process.env.OPENAI_API_KEY, OPENAI_BASE_URL: process.env.OPENAI_BASE_URL };
  Object.assign(process.env, BOGUS);
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server?.close();
  server = undefined;
});

const ask = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('createOpenAI resolves the settings, the models use them', () => {
  it('uses the passed base URL and key, not the bogus process.env ones', async () => {
    server = await startOpenAICompatibleServer({ apiKey: 'sk-passed-key-1234567890', respond: () => 'ok' });
    const provider = createOpenAI({ baseURL: server.url, apiKey: 'sk-passed-key-1234567890' });
    const model = provider('m');
    expect(model.baseURL).toBe(server.url.replace(/\/+$/, ''));
    expect((await model.doGenerate(ask)).choices[0]!.text).toBe('ok');
    // The batch model and the fine-tuning backend get the same resolved settings.
    expect(provider.batch({ modelId: 'm', stateDir: '/tmp' }).endpoint).toBe(provider.config.baseURL);
    expect(provider.config.apiKey()).toBe('sk-passed-key-1234567890');
  });

  it('reads an env object when one is passed, still not process.env', async () => {
    server = await startOpenAICompatibleServer({ apiKey: 'sk-env-object-key-12345678', respond: () => 'from env object' });
    const model = createOpenAI({ env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'sk-env-object-key-12345678' } })('m');
    expect((await model.doGenerate(ask)).choices[0]!.text).toBe('from env object');
  });

  it('resolves the key once: changing process.env afterwards changes nothing', async () => {
    server = await startOpenAICompatibleServer({ apiKey: 'sk-first-key-1234567890ab', respond: () => 'ok' });
    process.env.OPENAI_API_KEY = 'sk-first-key-1234567890ab';
    const provider = createOpenAI({ baseURL: server.url });
    expect((await provider('m').doGenerate(ask)).choices[0]!.text).toBe('ok');
    process.env.OPENAI_API_KEY = 'sk-changed-later-00000000';
    expect((await provider('m2').doGenerate(ask)).choices[0]!.text).toBe('ok');
  });

  it('asks for the key only when a request needs it, with a LoadSettingError naming the variable', async () => {
    const model = createOpenAI({ baseURL: 'https://api.openai.com/v1', env: {} })('gpt-4o-mini');
    const error = await model.doGenerate(ask).catch((caught: unknown) => caught);
    expect(LoadSettingError.isInstance(error)).toBe(true);
    expect((error as LoadSettingError).environmentVariableName).toBe('OPENAI_API_KEY');
    expect((error as LoadSettingError).hint).not.toMatch(/--[a-z]/);
  });
});

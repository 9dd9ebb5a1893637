import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APICallError, createStageContext, type ProgressEvent, type StageContext } from '@prompt2model/core/internal';
import { startDeepLServer, type DeepLServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeepLTranslator, createPromptParser, DeepLTranslator } from '../src/internal.js';

const JAPANESE_PROMPT = `与えられた日本語の指示に従って、Pythonのコードを1行で書いてください。
入力: リスト\`lst\`を逆順にする
出力: lst[::-1]
入力: 文字列\`s\`を大文字にする
出力: s.upper()`;
const JAPANESE_INSTRUCTION = '与えられた日本語の指示に従って、Pythonのコードを1行で書いてください。';
const ENGLISH_INSTRUCTION = 'Follow the given Japanese instruction and write the Python code in one line.';

const dirs: string[] = [];
let server: DeepLServer;

beforeAll(async () => {
  server = await startDeepLServer({ authKeys: ['good-key'], translations: { [JAPANESE_INSTRUCTION]: ENGLISH_INSTRUCTION } });
});
afterAll(async () => {
  await server.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function context(events?: ProgressEvent[]): Promise<StageContext> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-deepl-'));
  dirs.push(dir);
  const stage = await createStageContext({ outDir: dir, cacheDir: false });
  if (events) stage.events.on((event) => events.push(event));
  return stage;
}

describe('DeepL translation through deepl-node against a loopback DeepL server', () => {
  it('translates a Japanese instruction, keeps the original and the examples as written', async () => {
    const before = server.stats.translateCalls.length;
    const parser = createPromptParser({ deepl: { authKey: 'good-key', serverUrl: server.url }, env: {} });
    const result = await parser.parseDetailed(JAPANESE_PROMPT, await context());
    expect(result.spec).toEqual({
      instruction: ENGLISH_INSTRUCTION,
      originalInstruction: JAPANESE_INSTRUCTION,
      language: 'ja',
      examples: [
        { input: 'リスト`lst`を逆順にする', output: 'lst[::-1]' },
        { input: '文字列`s`を大文字にする', output: 's.upper()' },
      ],
      taskType: 'generation',
    });
    expect(result.translation).toEqual({ status: 'translated', translator: 'deepl', billedCharacters: [...JAPANESE_INSTRUCTION].length });
    const calls = server.stats.translateCalls.slice(before);
    expect(calls).toEqual([{ texts: [JAPANESE_INSTRUCTION], sourceLang: 'JA', targetLang: 'EN-US' }]);
    const request = server.stats.log.at(-1)!;
    expect(request.authKey).toBe('good-key');
    expect(request.contentType).toContain('application/x-www-form-urlencoded');
  });

  it('reads the key and server URL from DEEPL_AUTH_KEY and DEEPL_SERVER_URL', async () => {
    const parser = createPromptParser({ env: { DEEPL_AUTH_KEY: 'good-key', DEEPL_SERVER_URL: server.url } });
    expect(parser.translator?.name).toBe('deepl');
    expect((await parser.parse(JAPANESE_PROMPT, await context())).instruction).toBe(ENGLISH_INSTRUCTION);
    expect(createDeepLTranslator({ env: {} })).toBeUndefined();
  });

  it('createDeepLTranslator uses the values it is given, not bogus DEEPL_* in process.env', async () => {
    const saved = { DEEPL_AUTH_KEY: process.env.DEEPL_AUTH_KEY, DEEPL_SERVER_URL: process.env.DEEPL_SERVER_URL };
    process.env.DEEPL_AUTH_KEY = 'bogus-key-from-process-env';
    process.env.DEEPL_SERVER_URL = 'http://127.0.0.1:9';
    try {
      const translator = createDeepLTranslator({ authKey: 'good-key', serverUrl: server.url })!;
      expect((await translator.translate(JAPANESE_INSTRUCTION, { targetLanguage: 'en' })).text).toBe(ENGLISH_INSTRUCTION);
      expect(server.stats.log.at(-1)!.authKey).toBe('good-key');
      // An env object replaces process.env entirely.
      expect(createDeepLTranslator({ env: {} })).toBeUndefined();
      const fromEnv = createPromptParser({ env: { DEEPL_AUTH_KEY: 'good-key', DEEPL_SERVER_URL: server.url } });
      expect((await fromEnv.parse(JAPANESE_PROMPT, await context())).instruction).toBe(ENGLISH_INSTRUCTION);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('maps 456 Quota Exceeded to an APICallError that says what to do', async () => {
    const quota = await startDeepLServer({ characterLimit: 10 });
    try {
      const parser = createPromptParser({ deepl: { authKey: 'k', serverUrl: quota.url }, env: {} });
      const error = await parser.parse(JAPANESE_PROMPT, await context()).catch((caught: unknown) => caught);
      expect(APICallError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ statusCode: 456, isRetryable: false });
      expect((error as Error).message).toContain('Quota for this billing period has been exceeded');
      expect((error as APICallError).hint).toMatch(/quota.*`translate: false`/s);
      // A quota error is final: deepl-node does not retry it.
      expect(quota.stats.requests['/v2/translate']).toBe(1);
    } finally {
      await quota.close();
    }
  });

  it('keeps the original instruction on a quota error when asked to, and says so', async () => {
    const quota = await startDeepLServer({ faults: [{ status: 456 }] });
    try {
      const events: ProgressEvent[] = [];
      const parser = createPromptParser({ deepl: { authKey: 'k', serverUrl: quota.url }, env: {}, onTranslationError: 'keep-original' });
      const result = await parser.parseDetailed(JAPANESE_PROMPT, await context(events));
      expect(result.spec).toMatchObject({ instruction: JAPANESE_INSTRUCTION, language: 'ja' });
      expect(result.spec.originalInstruction).toBeUndefined();
      expect(result.translation.status).toBe('failed');
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', stage: 'parse', message: expect.stringContaining('Translation failed') }));
    } finally {
      await quota.close();
    }
  });

  it('maps a rejected key (403) to an APICallError about DEEPL_AUTH_KEY', async () => {
    const parser = createPromptParser({ deepl: { authKey: 'wrong-key', serverUrl: server.url }, env: {} });
    const error = await parser.parse(JAPANESE_PROMPT, await context()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ statusCode: 403, isRetryable: false });
    expect((error as APICallError).hint).toContain('DEEPL_AUTH_KEY');
  });

  it('lets deepl-node retry a 429 with its own backoff and then succeed', async () => {
    const busy = await startDeepLServer({ faults: [{ status: 429, retryAfterSeconds: 0 }], translate: () => 'Write code.' });
    try {
      const translator = new DeepLTranslator({ authKey: 'k', serverUrl: busy.url, maxRetries: 2 });
      const result = await translator.translate('コードを書く', { sourceLanguage: 'ja', targetLanguage: 'en' });
      expect(result).toMatchObject({ text: 'Write code.', detectedSourceLanguage: 'ja' });
      expect(busy.stats.requests['/v2/translate']).toBe(2);
    } finally {
      await busy.close();
    }
  });

  it('trusts DeepL when it finds the instruction to be English after all', async () => {
    const english = await startDeepLServer({ translate: (text) => ({ text, detectedSourceLanguage: 'EN' }) });
    try {
      // The local guess (French) is overruled by the service, which reads the whole text.
      const parser = createPromptParser({ deepl: { authKey: 'k', serverUrl: english.url }, env: {} });
      const instruction = "Traduisez la phrase en anglais, s'il vous plaît, et gardez le ton.";
      const result = await parser.parseDetailed(`${instruction}\nInput: chat\nOutput: cat`, await context());
      expect(result.detection.language).toBe('fr');
      expect(result.translation).toEqual({ status: 'already-english', translator: 'deepl' });
      expect(english.stats.translateCalls).toEqual([{ texts: [instruction], sourceLang: undefined, targetLang: 'EN-US' }]);
      expect(result.spec).toMatchObject({ instruction, language: 'en' });
      expect(result.spec.originalInstruction).toBeUndefined();
    } finally {
      await english.close();
    }
  });

  it('without a key, proceeds in the original language and says so', async () => {
    const events: ProgressEvent[] = [];
    const result = await createPromptParser({ env: {} }).parseDetailed(JAPANESE_PROMPT, await context(events));
    expect(result.spec).toMatchObject({ instruction: JAPANESE_INSTRUCTION, language: 'ja' });
    expect(result.translation.status).toBe('no-translator');
    expect(result.notes.join('\n')).toContain('DEEPL_AUTH_KEY');
    expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringContaining('in Japanese as written') }));
  });

  it('does not call DeepL for an English instruction', async () => {
    const before = server.stats.requests['/v2/translate'] ?? 0;
    const parser = createPromptParser({ deepl: { authKey: 'good-key', serverUrl: server.url }, env: {} });
    const spec = await parser.parse('Translate English to French.\nInput: cat\nOutput: chat', await context());
    expect(spec.language).toBe('en');
    expect(server.stats.requests['/v2/translate'] ?? 0).toBe(before);
  });

  it('the loopback server also takes JSON bodies and serves /v2/usage', async () => {
    const response = await fetch(`${server.url}/v2/translate`, {
      method: 'POST',
      headers: { authorization: 'DeepL-Auth-Key good-key', 'content-type': 'application/json' },
      body: JSON.stringify({ text: ['こんにちは'], target_lang: 'EN-GB' }),
    });
    expect(await response.json()).toEqual({ translations: [{ detected_source_language: 'JA', text: '[EN-GB] こんにちは' }] });
    const { default: deepl } = await import('deepl-node');
    const usage = await new deepl.Translator('good-key', { serverUrl: server.url }).getUsage();
    expect(usage.character?.count).toBe(server.stats.characterCount);
  });
});

describe('translation turned off', () => {
  it('keeps the instruction with an info note, not a warning about a missing key', async () => {
    const events: ProgressEvent[] = [];
    const result = await createPromptParser({ translate: false, env: { DEEPL_AUTH_KEY: 'good-key', DEEPL_SERVER_URL: server.url } }).parseDetailed(
      JAPANESE_PROMPT,
      await context(events),
    );
    expect(result.translation.status).toBe('disabled');
    expect(result.spec.instruction).toBe(JAPANESE_INSTRUCTION);
    expect(events.filter((event) => event.type === 'log' && event.level === 'warn')).toEqual([]);
  });
});

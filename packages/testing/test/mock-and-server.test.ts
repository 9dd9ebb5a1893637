import { afterEach, describe, expect, it } from 'vitest';
import { MockLanguageModel, startOpenAICompatibleServer, type OpenAICompatibleServer } from '../src/index.js';

const ask = (content: string, n?: number) => ({ messages: [{ role: 'user' as const, content }], ...(n ? { n } : {}) });

describe('MockLanguageModel', () => {
  it('answers from a value, repeated for each of n choices, and records calls without the signal', async () => {
    const model = new MockLanguageModel({ respond: 'same' });
    const response = await model.doGenerate({ ...ask('x', 3), abortSignal: new AbortController().signal });
    expect(response.choices.map((c) => c.text)).toEqual(['same', 'same', 'same']);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    expect(model.calls).toEqual([ask('x', 3)]);
  });

  it('answers one array element per call, repeating the last; string[] elements are one call’s choices', async () => {
    const model = new MockLanguageModel({ respond: ['first', ['a', 'b'], 'last'] });
    const texts = [];
    for (let i = 0; i < 4; i++) texts.push((await model.doGenerate(ask(`q${i}`))).choices.map((c) => c.text));
    expect(texts).toEqual([['first'], ['a', 'b'], ['last'], ['last']]);
    expect(model.callCount).toBe(4);
  });

  it('answers from a function of the request and call index, and honours an aborted signal', async () => {
    const model = new MockLanguageModel({ respond: (request, index) => `${index}:${request.messages[0]!.content}` });
    expect((await model.doGenerate(ask('hello'))).choices[0]!.text).toBe('0:hello');
    const controller = new AbortController();
    controller.abort();
    await expect(model.doGenerate({ ...ask('x'), abortSignal: controller.signal })).rejects.toThrow();
  });
});

describe('startOpenAICompatibleServer', () => {
  let server: OpenAICompatibleServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server!.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('enforces its RPM limit with 429 + Retry-After and counts those 429s as caused by the client', async () => {
    server = await startOpenAICompatibleServer({ requestsPerMinute: 120, rateLimitWindowMs: 1000 }); // 2 per second
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(server.stats.rateLimited).toBe(1);
    expect(server.stats.faultsInjected).toBe(0);
    // When the over-limit 429 arrived, so a benchmark can count accepted requests per window.
    expect(server.stats.rateLimitedArrivals).toEqual([server.stats.arrivals[2]]);
  });

  it('injects scripted faults, checks the key, and answers n choices', async () => {
    server = await startOpenAICompatibleServer({ apiKey: 'k1', faultSequence: ['server-error', 'rate-limit', 'truncated', 'ok'], respond: (_b, i) => `c${i.choiceIndex}` });
    const auth = { authorization: 'Bearer k1' };
    expect((await post({ model: 'm', messages: [] }, { authorization: 'Bearer wrong' })).status).toBe(401);
    const body = { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 };
    expect((await post(body, auth)).status).toBe(500);
    const limited = await post(body, auth);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    await expect((await post(body, auth)).json()).rejects.toThrow(); // truncated JSON body
    const ok = (await (await post(body, auth)).json()) as { choices: Array<{ message: { content: string } }> };
    expect(ok.choices.map((c) => c.message.content)).toEqual(['c0', 'c1']);
    expect(server.stats.faultsInjected).toBe(3);
    expect(server.requests).toHaveLength(4);
  });
});

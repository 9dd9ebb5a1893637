// No silent hang (issue 19): a teacher that accepts connections and never answers fails within the
// configured first-byte bound, with a line naming the URL (never the key) and exit code 2; from the
// CLI, in fresh processes, for `run`, `generate` and `parse`.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';
import { SENTIMENT_PROMPT } from './support/sentiment-teacher.js';

const KEY = 'sk-hung-endpoint-secret-1234';
let dir: string;
/** Accepts every connection and request, and never sends a byte back. */
let silent: Server;
let silentUrl: string;
/** Answers the free models list (so preflight passes) and hangs on every chat completion. */
let hangsOnChat: OpenAICompatibleServer;
let refusedUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-hung-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  await writeFile(join(dir, 'unmarked.txt'), 'Turn dates such as "March 3rd, 2021" into ISO 8601 (2021-03-03).\n');
  await writeFile(join(dir, 'cards.jsonl'), `${JSON.stringify({ id: 'acme/t5-small', card: '# t5 small for sentiment', sizeBytes: 240_000_000, downloads: 10 })}\n`);
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
  hangsOnChat = await startOpenAICompatibleServer({ faults: { rate: 1, kinds: ['hang'] } });
  // A port nothing listens on: bind one, note it, close it.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  refusedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/v1`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await hangsOnChat.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (baseUrl: string) => ({ OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: KEY, P2M_CACHE_DIR: join(dir, 'llm-cache') });

function expectCleanFailure(result: { code: number | null; stderr: string; stdout: string }, url: string): void {
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(url);
  expect(result.stderr + result.stdout).not.toContain(KEY);
  // One error line (plus its hint), no stack.
  expect(result.stderr.match(/^error: /gm)).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('a teacher that accepts connections and never answers', () => {
  it('generate: preflight fails within the first-byte bound, naming the URL, exit 2', async () => {
    const result = await spawnCli(['generate', '--prompt', join(dir, 'prompt.txt'), '-n', '5', '--out', join(dir, 'gen-silent'), '--first-byte-timeout', '1'], {
      env: env(silentUrl),
      timeoutMs: 30_000,
    });
    expectCleanFailure(result, silentUrl);
    expect(result.stderr).toMatch(/Preflight: teacher gpt-4o-mini: .* sent no answer within 1 s \(not even response headers\)/);
    expect(result.stderr).toMatch(/hint: .*--first-byte-timeout/);
    expect(result.ms).toBeLessThan(15_000);
  }, 40_000);

  it('parse: a prompt the teacher must split gets the same preflight', async () => {
    const result = await spawnCli(['parse', '--prompt', join(dir, 'unmarked.txt'), '--first-byte-timeout', '1'], { env: env(silentUrl), timeoutMs: 30_000 });
    expectCleanFailure(result, silentUrl);
    expect(result.stderr).toMatch(/Preflight: teacher/);
    expect(result.ms).toBeLessThan(15_000);
  }, 40_000);

  it('parse: a prompt with marked examples needs no teacher, so a dead one does not stop it', async () => {
    const result = await spawnCli(['parse', '--prompt', join(dir, 'prompt.txt'), '--first-byte-timeout', '1'], { env: env(silentUrl), timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Examples: 2/);
  }, 40_000);

  it('run: a teacher that passes preflight and then never answers fails after two bounded waits with a retry line, exit 2', async () => {
    const result = await spawnCli(
      ['run', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '10', '--no-train', '--no-retrieve-datasets', '--index', join(dir, 'cards.jsonl'), '--out', join(dir, 'run-hang'), '--first-byte-timeout', '1'],
      { env: env(hangsOnChat.url), timeoutMs: 60_000 },
    );
    expectCleanFailure(result, hangsOnChat.url);
    expect(result.stderr).toMatch(/warning: retry 1 in [\d.]+ s: .* sent no answer within 1 s/);
    expect(result.stderr).toMatch(/error: gpt-4o-mini at http:\/\/127\.0\.0\.1:\d+\/v1 accepted the request but sent no answer \(not even response headers\) within 1 s, 2 times in a row, and has answered nothing yet: the endpoint is unusable\./);
    expect(result.ms).toBeLessThan(20_000);
  }, 70_000);

  it('generate: a refused connection fails at once (no silent retries), exit 2', async () => {
    const result = await spawnCli(['generate', '--prompt', join(dir, 'prompt.txt'), '-n', '5', '--out', join(dir, 'gen-refused')], { env: env(refusedUrl), timeoutMs: 30_000 });
    expectCleanFailure(result, refusedUrl);
    expect(result.stderr).toMatch(/connection was refused/);
    expect(result.ms).toBeLessThan(10_000);
  }, 40_000);
});

// After Ctrl-C, the cost a run folder reports is not below what the endpoint billed (issue 19):
// calls in flight when the CLI stops are still generated (and paid for) by the server, so the
// client counts them too. From the CLI, in a fresh process, against a slow loopback teacher that
// counts every answer it generated, whether or not the client was still there to read it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN_PRICES } from '@prompt2model/core/internal';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

const LATENCY_MS = 700;
let dir: string;
let server: OpenAICompatibleServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cut-off-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  server = await startOpenAICompatibleServer({ respond: sentimentTeacher, latencyMs: LATENCY_MS });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the cost reported after an interruption', () => {
  it('counts the calls cut off in flight: not below what the endpoint billed', async () => {
    const out = join(dir, 'run');
    const result = await spawnCli(['generate', '--prompt', join(dir, 'prompt.txt'), '-n', '300', '--out', out, '--teacher', 'gpt-4o-mini'], {
      env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', P2M_CACHE_DIR: join(dir, 'cache') },
      // Well into the labelling, with calls in flight.
      interruptWhen: /generate/,
      interruptDelayMs: 4 * LATENCY_MS,
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(130);
    // The server finishes (and bills) what was in flight when the client went away.
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS + 300));
    const price = DEFAULT_TOKEN_PRICES['gpt-4o-mini']!;
    const billed = (server.stats.billed.promptTokens * price.inputPer1M + server.stats.billed.completionTokens * price.outputPer1M) / 1e6;
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { cost?: { usd: number } };
    const reported = manifest.cost?.usd ?? 0;
    console.log(`billed by the endpoint $${billed.toFixed(6)} (${server.stats.requests} requests), reported $${reported.toFixed(6)} (${((reported / billed - 1) * 100).toFixed(1)}%)`);
    expect(server.stats.requests).toBeGreaterThan(3);
    // Cut-off calls are counted at an estimate from the answered calls most like them (0.1% over
    // in three runs on a 2-core VM): never more than a few percent under, nor much over.
    expect(reported).toBeGreaterThanOrEqual(billed * 0.97);
    expect(reported).toBeLessThanOrEqual(billed * 1.15);
  }, 90_000);
});

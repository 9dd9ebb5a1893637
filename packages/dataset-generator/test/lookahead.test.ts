import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createStageContext, readJsonlAll, type Example } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { startOpenAICompatibleServer, type ChatCompletionRequestBody, type OpenAICompatibleServer } from '@prompt2model/testing';
import { createDatasetGenerator } from '../src/internal.js';
import { sentimentSpec, sentimentTeacher } from './support/sentiment-world.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * A teacher whose first input-generation request is held until `release()`: the unit it belongs
 * to cannot commit, so the generation requests seen meanwhile are the lookahead at work.
 */
async function heldTeacher(): Promise<{ server: OpenAICompatibleServer; generationRequests: () => number; release: () => void }> {
  const respond = sentimentTeacher();
  let generationRequests = 0;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const firstGeneration = new WeakSet<ChatCompletionRequestBody>();
  const server = await startOpenAICompatibleServer({
    respond: async (body, info) => {
      const generation = body.response_format !== undefined;
      if (generation && info.choiceIndex === 0) {
        generationRequests++;
        if (generationRequests === 1) firstGeneration.add(body);
      }
      if (firstGeneration.has(body)) await held;
      return respond(body as never, info);
    },
  });
  cleanups.push(() => server.close());
  return { server, generationRequests: () => generationRequests, release };
}

describe('generation lookahead', () => {
  it('keeps 16 generation requests going ahead of the last committed one by default on a large run, and no more', async () => {
    const { server, generationRequests, release } = await heldTeacher();
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-lookahead-'));
    cleanups.push(() => rm(outDir, { recursive: true, force: true }));
    const context = await createStageContext({
      outDir,
      teacher: createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('loopback-model', { maxChoicesPerRequest: 8 }),
      scheduler: { maxConcurrency: 32, initialBackoffMs: 5, maxBackoffMs: 50 },
    });
    const outputPath = join(outDir, 'dataset.jsonl');
    const run = createDatasetGenerator({ seed: 7 }).generate(sentimentSpec, { numExamples: 1000, outputPath }, context);
    // Unit 0 waits for its held request; units 1..15 are issued meanwhile, unit 16 only after unit 0 commits.
    await vi.waitFor(() => expect(generationRequests()).toBe(16), { timeout: 10_000 });
    // Units 1..15 finish their votes meanwhile; none of that may issue unit 16.
    await vi.waitFor(() => expect(server.stats.completed).toBeGreaterThan(30), { timeout: 10_000 });
    expect(generationRequests()).toBe(16);
    release();
    const result = await run;
    expect(result.count).toBe(1000);
    expect(generationRequests()).toBeGreaterThan(16);
    expect((await readJsonlAll<Example>(outputPath)).length).toBe(1000);
  });
});

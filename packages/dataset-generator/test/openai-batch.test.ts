import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, LanguageModelClient, createStageContext, readJsonlAll, type Example } from '@prompt2model/core';
import { startOpenAIBatchServer, type OpenAIBatchServer, type OpenAIBatchServerOptions } from '@prompt2model/testing';
import {
  batchGeneratorOptions,
  createDatasetGenerator,
  normalizeText,
  type GenerationSummary,
} from '../src/internal.js';
import { createOpenAI, createOpenAIBatchTeacher, type OpenAIBatchOptions } from '@prompt2model/openai';
import { sentimentSpec, sentimentTeacher, trueLabel } from './support/sentiment-world.js';

const dirs: string[] = [];
const servers: OpenAIBatchServer[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-batch-'));
  dirs.push(dir);
  return dir;
}

async function batchServer(options: OpenAIBatchServerOptions = {}): Promise<OpenAIBatchServer> {
  const server = await startOpenAIBatchServer({ respond: (body) => `answer to ${String(body.messages.at(-1)?.content)}`, ...options });
  servers.push(server);
  return server;
}

function model(server: OpenAIBatchServer, stateDir: string, extra: Partial<OpenAIBatchOptions> = {}) {
  return createOpenAI({ baseURL: server.url, apiKey: 'test-key' }).batch({ modelId: 'gpt-4o-mini', stateDir, pollIntervalMs: 5, collectWindowMs: 20, ...extra });
}

const ask = (text: string) => ({ messages: [{ role: 'user' as const, content: text }] });

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('OpenAIBatchLanguageModel', () => {
  it('sends calls made together as one batch: upload, create, poll, collect', async () => {
    const server = await batchServer();
    const stateDir = await tempDir();
    const client = new LanguageModelClient({ model: model(server, stateDir) });
    const results = await Promise.all(['a', 'b', 'c'].map((text) => client.generate(ask(text))));
    expect(results.map((result) => result.choices[0]!.text)).toEqual(['answer to a', 'answer to b', 'answer to c']);
    expect(results[0]!.usage.inputTokens).toBeGreaterThan(0);
    expect(server.stats).toMatchObject({ filesUploaded: 1, batchesCreated: 1, linesCompleted: 3 });
    expect(server.stats.polls).toBeGreaterThanOrEqual(2);
    const state = JSON.parse(await readFile(join(stateDir, 'batches.json'), 'utf8'));
    expect(state.batches).toHaveLength(1);
    expect(state.batches[0].status).toBe('completed');
    // Repeated samples of one request are distinct lines of the batch.
    const samples = await client.sample(ask('same'), 2);
    expect(samples).toEqual(['answer to same', 'answer to same']);
  });

  it('re-attaches to a submitted batch after an interruption instead of paying for it again', async () => {
    const server = await batchServer({ pollsUntilDone: 4 });
    const stateDir = await tempDir();
    const controller = new AbortController();
    const first = model(server, stateDir, { signal: controller.signal, onEvent: (message) => message.includes('in_progress') && controller.abort() });
    await expect(Promise.all([first.doGenerate(ask('x')), first.doGenerate(ask('y'))])).rejects.toSatisfy((error) => AbortError.isInstance(error));
    expect(server.stats.batchesCreated).toBe(1);
    const second = model(server, stateDir);
    const answers = await Promise.all([second.doGenerate(ask('x')), second.doGenerate(ask('y'))]);
    expect(answers.map((answer) => answer.choices[0]!.text)).toEqual(['answer to x', 'answer to y']);
    expect(server.stats.batchesCreated).toBe(1);
    expect(server.stats.filesUploaded).toBe(1);
  });

  it('sends failed lines again in a later batch, and recovers from a failed batch', async () => {
    const flaky = await batchServer({ failLines: (customId) => customId.endsWith('-0') && customId.includes('retry-me') === false && !/-r\d+$/.test(customId) });
    const client = new LanguageModelClient({ model: model(flaky, await tempDir()) });
    const result = await client.generate(ask('flaky'));
    expect(result.choices[0]!.text).toBe('answer to flaky');
    expect(flaky.stats).toMatchObject({ batchesCreated: 2, linesFailed: 1 });

    const failing = await batchServer({ batchOutcome: (index) => (index === 0 ? 'failed' : 'completed') });
    const again = new LanguageModelClient({ model: model(failing, await tempDir()) });
    expect((await again.generate(ask('z'))).choices[0]!.text).toBe('answer to z');
    expect(failing.stats.batchesCreated).toBe(2);

    const hopeless = await batchServer({ failLines: 1 });
    const never = new LanguageModelClient({ model: model(hopeless, await tempDir(), { maxLineRetries: 1 }) });
    await expect(never.generate(ask('no'))).rejects.toThrow(/failed/);
    expect(hopeless.stats.batchesCreated).toBe(2);
  });
});

describe('dataset generation in Batch API mode', () => {
  it('produces the same kind of dataset in a few batches, with votes, dedup and provenance', async () => {
    const world = sentimentTeacher({ labelNoise: 0.1, duplicateRate: 0.2 });
    const server = await batchServer({ respond: (body, { choiceIndex }) => world(body as never, { choiceIndex }) });
    const outDir = await tempDir();
    const context = await createStageContext({ outDir });
    const teacher = createOpenAIBatchTeacher(context, { modelId: 'loopback-model', provider: createOpenAI({ baseURL: server.url, apiKey: 'test-key' }), pollIntervalMs: 5, collectWindowMs: 30 });
    const numExamples = 60;
    const result = await createDatasetGenerator({ teacher, seed: 3, ...batchGeneratorOptions(numExamples) }).generate(
      sentimentSpec,
      { numExamples, outputPath: join(outDir, 'dataset.jsonl') },
      context,
    );
    const rows = await readJsonlAll<Example>(join(outDir, 'dataset.jsonl'));
    expect(rows).toHaveLength(numExamples);
    expect((result.summary as unknown as GenerationSummary).stoppedBy).toBe('target');
    expect(new Set(rows.map((row) => normalizeText(row.input))).size).toBe(numExamples);
    expect(rows.filter((row) => row.output === trueLabel(row.input)).length / rows.length).toBeGreaterThan(0.9);
    expect(rows[0]!.meta).toMatchObject({ source: 'generated', teacher: 'loopback-model' });
    expect(rows[0]!.meta!.votes).toBeDefined();
    // Rounds, not requests: a handful of batches for 60 examples (inputs, votes, split votes, ...).
    expect(server.stats.batchesCreated).toBeLessThanOrEqual(8);
    expect(server.stats.linesCompleted).toBeGreaterThan(60);
  });
});

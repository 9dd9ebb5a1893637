import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Prompt2ModelError,
  ValidationError,
  createStageContext,
  readJsonlAll,
  type Example,
  type StageContext,
} from '@prompt2model/core';
import { createOpenAI } from '@prompt2model/openai';
import {
  MockLanguageModel,
  dateNormalisationSpec,
  noisyDateTeacher,
  startOpenAICompatibleServer,
  trueIsoDate,
  type OpenAICompatibleServer,
} from '@prompt2model/testing';
import { createDatasetGenerator, ngramJaccard, normalizeText, progressLogPath, type GenerationSummary, type PromptBasedDatasetGeneratorOptions } from '../src/internal.js';
import { sentimentSpec, sentimentTeacher, textFor, trueLabel, type WorldOptions } from './support/sentiment-world.js';

const dirs: string[] = [];
const servers: OpenAICompatibleServer[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-generate-'));
  dirs.push(dir);
  return dir;
}

async function world(options: WorldOptions & { faults?: number; latencyMs?: number } = {}): Promise<OpenAICompatibleServer> {
  const server = await startOpenAICompatibleServer({
    respond: sentimentTeacher(options) as never,
    latencyMs: options.latencyMs ?? 0,
    retryAfterSeconds: 0,
    ...(options.faults ? { faults: { rate: options.faults, kinds: ['server-error', 'rate-limit', 'truncated'], seed: 3 } } : {}),
  });
  servers.push(server);
  return server;
}

async function contextFor(server: OpenAICompatibleServer, outDir: string, extra: { maxCostUsd?: number; modelId?: string } = {}): Promise<StageContext> {
  return createStageContext({
    outDir,
    teacher: createOpenAI({ baseURL: server.url, apiKey: 'test-key' })(extra.modelId ?? 'loopback-model', { maxChoicesPerRequest: 8 }),
    scheduler: { maxConcurrency: 8, initialBackoffMs: 5, maxBackoffMs: 50 },
    ...(extra.maxCostUsd !== undefined ? { maxCostUsd: extra.maxCostUsd } : {}),
  });
}

async function generate(
  server: OpenAICompatibleServer,
  numExamples: number,
  options: PromptBasedDatasetGeneratorOptions & { outDir?: string; evaluationSet?: Example[]; maxCostUsd?: number; modelId?: string } = {},
): Promise<{ summary: GenerationSummary; rows: Example[]; outDir: string; context: StageContext }> {
  const { outDir: givenDir, evaluationSet, maxCostUsd, modelId, ...generatorOptions } = options;
  const outDir = givenDir ?? (await tempDir());
  const context = await contextFor(server, outDir, { ...(maxCostUsd !== undefined ? { maxCostUsd } : {}), ...(modelId ? { modelId } : {}) });
  const outputPath = join(outDir, 'dataset.jsonl');
  const result = await createDatasetGenerator({ seed: 7, ...generatorOptions }).generate(
    sentimentSpec,
    { numExamples, outputPath, ...(evaluationSet ? { evaluationSet } : {}) },
    context,
  );
  const rows = await readJsonlAll<Example>(outputPath);
  return { summary: result.summary as unknown as GenerationSummary, rows, outDir, context };
}

function accuracy(rows: Example[]): number {
  return rows.filter((row) => row.output === trueLabel(row.input)).length / rows.length;
}

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('PromptBasedDatasetGenerator against a loopback teacher', () => {
  it('majority voting fixes noisy labels (with injected faults)', async () => {
    const server = await world({ labelNoise: 0.2, faults: 0.1 });
    const single = await generate(server, 150, { samplesPerInput: 1, maxSamplesPerInput: 1, minAgreement: 0 });
    const voted = await generate(server, 150);
    expect(single.rows).toHaveLength(150);
    expect(voted.rows).toHaveLength(150);
    expect(server.stats.faultsInjected).toBeGreaterThan(10);
    const singleAccuracy = accuracy(single.rows);
    const votedAccuracy = accuracy(voted.rows);
    expect(singleAccuracy).toBeLessThan(0.9);
    expect(votedAccuracy).toBeGreaterThanOrEqual(0.92);
    expect(votedAccuracy - singleAccuracy).toBeGreaterThan(0.08);
    for (const row of voted.rows) {
      expect(sentimentSpec.labels).toContain(row.output);
      expect(row.meta).toMatchObject({ source: 'generated', teacher: 'loopback-model' });
      expect(row.meta!.agreement).toBeGreaterThanOrEqual(0.5);
      const votes = Object.values(row.meta!.votes!).reduce((a, b) => a + b, 0);
      expect(votes).toBeGreaterThanOrEqual(3);
      expect(row.meta!.promptHash).toMatch(/^[0-9a-f]{16}$/);
      expect(typeof row.meta!.temperature).toBe('number');
    }
    // Split votes asked for more samples.
    expect(voted.rows.some((row) => (row.meta!.samples as number) > 3)).toBe(true);
    expect(voted.summary).toMatchObject({ accepted: 150, target: 150, stoppedBy: 'target' });
  });

  it('never lets duplicates, near-duplicates or copies of the user examples through', async () => {
    const server = await world({ labelNoise: 0, duplicateRate: 0.3, nearDuplicateRate: 0.2, echoRate: 0.1 });
    const { rows, summary } = await generate(server, 120);
    expect(rows).toHaveLength(120);
    const keys = rows.map((row) => normalizeText(row.input));
    expect(new Set(keys).size).toBe(rows.length);
    const userInputs = new Set(sentimentSpec.examples.map((example) => normalizeText(example.input)));
    expect(keys.filter((key) => userInputs.has(key))).toEqual([]);
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) expect(ngramJaccard(rows[i]!.input, rows[j]!.input)).toBeLessThan(0.8);
    }
    expect(summary.rejected.duplicate).toBeGreaterThan(0);
    expect(summary.rejected['near-duplicate']).toBeGreaterThan(0);
  });

  it('anneals the temperature, shows earlier examples in later prompts, and batches votes with n', async () => {
    const server = await world({ labelNoise: 0.1 });
    await generate(server, 200);
    const generation = server.requests.filter((request) => request.response_format !== undefined);
    const temperatures = generation.map((request) => request.temperature as number);
    expect(temperatures[0]).toBe(0.5);
    expect(Math.max(...temperatures)).toBeGreaterThan(1.2);
    expect(Math.max(...temperatures)).toBeLessThanOrEqual(1.4);
    const prompts = generation.map((request) => JSON.stringify(request.messages));
    expect(prompts[0]).not.toContain('already in the dataset');
    expect(prompts.at(-1)).toContain('already in the dataset');
    // Votes for one input go out together as `n` choices (the first round at least samplesPerInput, 3).
    const labelling = server.requests.filter((request) => request.response_format === undefined);
    expect(labelling.every((request) => (request.n ?? 1) <= 15)).toBe(true);
    expect(labelling.filter((request) => (request.n ?? 1) >= 3).length).toBeGreaterThan(150);
  });

  it('drops low-agreement inputs', async () => {
    const server = await world({ labelNoise: 0.05, ambiguousModulus: 4 });
    const { rows, summary } = await generate(server, 100);
    expect(summary.rejected['low-agreement']).toBeGreaterThan(0);
    expect(rows.every((row) => (row.meta!.agreement as number) >= 0.5)).toBe(true);
  });

  it('decontaminates against an evaluation set', async () => {
    const server = await world({ labelNoise: 0, duplicateRate: 0.4 });
    const evaluationSet = Array.from({ length: 20 }, (_, i) => ({ input: textFor(1000 + i), output: trueLabel(textFor(1000 + i))! }));
    const { rows, summary } = await generate(server, 60, { evaluationSet });
    const evaluationInputs = new Set(evaluationSet.map((example) => normalizeText(example.input)));
    expect(rows.filter((row) => evaluationInputs.has(normalizeText(row.input)))).toEqual([]);
    expect(summary.rejected.contaminated).toBeGreaterThan(0);
  });

  it('stops at the budget cap, keeps what it has, and continues when the cap is raised', async () => {
    const server = await world({ labelNoise: 0.1 });
    const outDir = await tempDir();
    const cap = 0.002;
    const first = await generate(server, 500, { outDir, maxCostUsd: cap, modelId: 'gpt-4o-mini' });
    expect(first.summary.stoppedBy).toBe('budget');
    expect(first.rows.length).toBeGreaterThan(0);
    expect(first.rows.length).toBeLessThan(500);
    // No call starts once the cap is reached; calls already running may finish (at most 8 here).
    const biggestCall = (4000 * 0.15 + 4 * 900 * 0.6) / 1e6;
    expect(first.context.ledger.totalUsd).toBeLessThanOrEqual(cap + 8 * biggestCall);
    const paidBefore = server.stats.completed;
    const second = await generate(server, first.rows.length + 10, { outDir, maxCostUsd: 1, modelId: 'gpt-4o-mini' });
    expect(second.rows).toHaveLength(first.rows.length + 10);
    expect(second.rows.slice(0, first.rows.length)).toEqual(first.rows);
    expect(server.stats.completed).toBeGreaterThan(paidBefore);
    expect(second.summary.resumedRows).toBe(first.rows.length);
  });

  it('resumes after a kill without paying again for completed calls', async () => {
    const server = await world({ labelNoise: 0.15, latencyMs: 40 });
    const target = 150;
    // Reference: one uninterrupted run, with the same seed and concurrency as the child.
    const reference = await generateWithConcurrency4(server, target);
    const referenceCalls = server.stats.completed;
    server.reset();

    const outDir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'fixtures/generate-child.ts'), server.url, outDir, String(target)], {
      stdio: 'ignore',
      // Resolve workspace packages to their sources (see fixtures/tsconfig.json), as vitest does.
      env: { ...process.env, TSX_TSCONFIG_PATH: resolve(import.meta.dirname, 'fixtures/tsconfig.json') },
    });
    const exited = new Promise((done) => child.on('exit', done));
    const datasetPath = join(outDir, 'dataset.jsonl');
    for (;;) {
      await new Promise((done) => setTimeout(done, 20));
      const rows = await countLines(datasetPath);
      if (rows >= 40) break;
      if (child.exitCode !== null) throw new Error('the child finished before it could be killed');
    }
    child.kill('SIGKILL');
    await exited;
    const rowsAtKill = await countLines(datasetPath);
    expect(rowsAtKill).toBeLessThan(target);
    const childCalls = server.stats.completed;

    const resumed = await generateWithConcurrency4(server, target, outDir);
    const resumeCalls = server.stats.completed - childCalls;
    expect(resumed.rows).toEqual(reference.rows);
    expect(resumed.summary.resumedRows).toBeGreaterThan(0);
    // Only calls cut off by the kill may be paid twice: those in flight (at most the concurrency,
    // 4) and those answered but not yet written to the cache in that instant.
    expect(childCalls + resumeCalls).toBeLessThanOrEqual(referenceCalls + 8);
    expect(resumeCalls).toBeLessThan(referenceCalls);
  }, 60_000);

  it('repairs a torn tail and rows written without their progress line', async () => {
    const server = await world({ labelNoise: 0.1 });
    const { rows, outDir } = await generate(server, 40);
    const datasetPath = join(outDir, 'dataset.jsonl');
    // A row whose unit never logged its commit, then half a row (a crash mid-write).
    await appendFile(datasetPath, `${JSON.stringify({ input: 'orphan row', output: 'positive' })}\n{"input": "torn`);
    const more = await generate(server, 60, { outDir });
    expect(more.rows).toHaveLength(60);
    expect(more.rows.slice(0, 40)).toEqual(rows);
    expect(more.rows.some((row) => row.input === 'orphan row')).toBe(false);
    expect(new Set(more.rows.map((row) => normalizeText(row.input))).size).toBe(60);
    // Asking for the same 60 again costs nothing.
    const afterMore = server.stats.completed;
    const again = await generate(server, 60, { outDir });
    expect(again.rows).toEqual(more.rows);
    expect(server.stats.completed).toBe(afterMore);
  });

  async function generateWithConcurrency4(server: OpenAICompatibleServer, numExamples: number, givenDir?: string) {
    const outDir = givenDir ?? (await tempDir());
    const context = await createStageContext({
      outDir,
      teacher: createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('loopback-model', { maxChoicesPerRequest: 8 }),
      scheduler: { maxConcurrency: 4, initialBackoffMs: 5, maxBackoffMs: 50 },
    });
    const outputPath = join(outDir, 'dataset.jsonl');
    const result = await createDatasetGenerator({ seed: 7 }).generate(sentimentSpec, { numExamples, outputPath }, context);
    return { summary: result.summary as unknown as GenerationSummary, rows: await readJsonlAll<Example>(outputPath) };
  }
});

describe('PromptBasedDatasetGenerator on a free-text task with a noisy teacher', () => {
  it('estimates the injected label noise from vote agreement and keeps labels right', async () => {
    const injected = 0.15;
    const server = await startOpenAICompatibleServer({
      respond: noisyDateTeacher({ noise: () => injected, consistentErrorRate: 0.01 }),
      recordRequests: false,
    });
    servers.push(server);
    const outDir = await tempDir();
    const context = await contextFor(server, outDir);
    const outputPath = join(outDir, 'dataset.jsonl');
    const result = await createDatasetGenerator({ seed: 3 }).generate(dateNormalisationSpec, { numExamples: 200, outputPath }, context);
    const summary = result.summary as unknown as GenerationSummary;
    const rows = await readJsonlAll<Example>(outputPath);
    expect(rows).toHaveLength(200);
    expect(Math.abs(summary.labelNoise.estimatedNoise - injected)).toBeLessThan(0.03);
    expect(summary.labelNoise.inputsVoted).toBeGreaterThanOrEqual(200);
    const correct = rows.filter((row) => row.output === trueIsoDate(row.input)).length / rows.length;
    // 1% of inputs are answered wrong the same way every time, which no vote can see.
    expect(correct).toBeGreaterThanOrEqual(0.97);
    expect(summary.labelNoise.expectedAccuracy).toBeGreaterThan(0.98);
    expect(rows.every((row) => typeof row.meta!.confidence === 'number')).toBe(true);
  });
});

describe('PromptBasedDatasetGenerator edge cases', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await tempDir();
  });

  it('stops when the teacher keeps repeating itself instead of looping forever', async () => {
    const teacher = new MockLanguageModel({
      respond: (request) =>
        request.responseFormat ? '{"examples": [{"input": "the same review every time", "output": "positive"}]}' : 'positive',
    });
    const context = await createStageContext({ outDir: join(outDir, 'repeat'), teacher });
    const result = await createDatasetGenerator({ maxUnproductiveRequests: 5 }).generate(
      sentimentSpec,
      { numExamples: 50, outputPath: join(outDir, 'repeat', 'dataset.jsonl') },
      context,
    );
    expect(result.count).toBe(1);
    expect(result.summary).toMatchObject({ stoppedBy: 'exhausted', accepted: 1 });
  });

  it('reports progress: accepted, duplicates, low agreement, tokens', async () => {
    let call = 0;
    const teacher = new MockLanguageModel({
      respond: (request) => {
        if (!request.responseFormat) {
          const input = request.messages.at(-1)!.content;
          // "split" inputs get three different answers: low agreement.
          return input.includes('split') ? ['positive', 'negative', 'neutral'] : 'positive';
        }
        call++;
        return JSON.stringify({ examples: [{ input: `#${call} fine review ${call * 7919}` }, { input: 'the very same input' }, { input: `#${call} split review ${call * 104729}` }] });
      },
    });
    const context = await createStageContext({ outDir: join(outDir, 'progress'), teacher });
    const events: Array<{ done: number; total?: number; counters?: Record<string, number> }> = [];
    context.events.on((event) => event.type === 'progress' && events.push(event));
    await createDatasetGenerator({ maxSamplesPerInput: 3 }).generate(
      sentimentSpec,
      { numExamples: 6, outputPath: join(outDir, 'progress', 'dataset.jsonl') },
      context,
    );
    const last = events.at(-1)!;
    expect(events[0]).toMatchObject({ done: 0, total: 6 });
    expect(last).toMatchObject({ done: 6, total: 6 });
    expect(last.counters!.duplicates).toBeGreaterThan(0);
    expect(last.counters!.lowAgreement).toBeGreaterThan(0);
    expect(last.counters!.tokens).toBeGreaterThan(0);
  });

  it('counts unparseable answers and invalid labels', async () => {
    let call = 0;
    const teacher = new MockLanguageModel({
      respond: (request) => {
        if (!request.responseFormat) return 'maybe';
        call++;
        return call % 2 === 0 ? 'no json here' : JSON.stringify({ examples: [{ input: `review ${call}`, output: 'x' }] });
      },
    });
    const context = await createStageContext({ outDir: join(outDir, 'invalid'), teacher });
    const result = await createDatasetGenerator({ maxUnproductiveRequests: 6 }).generate(
      sentimentSpec,
      { numExamples: 5, outputPath: join(outDir, 'invalid', 'dataset.jsonl') },
      context,
    );
    expect(result.count).toBe(0);
    const summary = result.summary as unknown as GenerationSummary;
    expect(summary.rejected.unparseable).toBeGreaterThan(0);
    expect(summary.rejected['invalid-label']).toBeGreaterThan(0);
  });

  it('needs a teacher, and refuses to resume a file it did not write', async () => {
    const noTeacher = await createStageContext({ outDir: join(outDir, 'none') });
    await expect(
      createDatasetGenerator().generate(sentimentSpec, { numExamples: 1, outputPath: join(outDir, 'none', 'dataset.jsonl') }, noTeacher),
    ).rejects.toSatisfy((error) => Prompt2ModelError.isInstance(error) && /teacher/.test((error as Error).message));

    const foreign = join(outDir, 'foreign');
    const context = await createStageContext({ outDir: foreign, teacher: new MockLanguageModel({ respond: 'positive' }) });
    await writeFile(join(foreign, 'dataset.jsonl'), '{"input": "a", "output": "b"}\n');
    await expect(
      createDatasetGenerator().generate(sentimentSpec, { numExamples: 3, outputPath: join(foreign, 'dataset.jsonl') }, context),
    ).rejects.toSatisfy((error) => ValidationError.isInstance(error));
    await expect(stat(progressLogPath(join(foreign, 'dataset.jsonl')))).rejects.toThrow();
    expect(await readFile(join(foreign, 'dataset.jsonl'), 'utf8')).toBe('{"input": "a", "output": "b"}\n');
  });
});

async function countLines(path: string): Promise<number> {
  try {
    const text = await readFile(path, 'utf8');
    return text.split('\n').filter((line) => line.trim() !== '').length;
  } catch {
    return 0;
  }
}

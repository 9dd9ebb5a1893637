import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinySeq2Seq, MockLanguageModel, SENTIMENT_LABELS } from '@prompt2model/testing';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { LocalBackend } from '@prompt2model/trainer';
import type { DatasetGenerator, PromptSpec, TrainedModel } from '@prompt2model/core';
import { createPipeline, type CreatePipelineOptions } from '../src/create-pipeline.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-pipeline-demo-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const spec: PromptSpec = { instruction: 'Classify the sentiment.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' };
const fixedParser = { specificationVersion: 'v1' as const, name: 'fixed', parse: async () => spec };
/** Twenty rows; each asks the teacher once (so the call cache has something to hold). */
const askingGenerator: DatasetGenerator = {
  specificationVersion: 'v1',
  name: 'asking',
  async generate(_spec, options, context) {
    const rows = [];
    for (let index = 0; index < 20; index++) {
      const answer = await context.teacher!.generate({ messages: [{ role: 'user', content: `review ${index}` }] });
      rows.push({ input: `review ${index} was great`, output: answer.choices[0]!.text });
    }
    await writeFile(options.outputPath, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    return { path: options.outputPath, count: rows.length, summary: {} };
  },
};

it('starts no demo server unless asked', async () => {
  const trained: TrainedModel = { backend: 'local', reference: join(root, 'no-model'), kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} };
  const pipeline = createPipeline({
    outDir: join(root, 'no-demo'),
    cacheDir: false,
    teacher: new MockLanguageModel({ respond: 'positive' }),
    training: { baseModel: 't5-small' },
    stages: { promptParser: fixedParser, datasetRetriever: null, datasetGenerator: askingGenerator, modelRetriever: null, evaluator: null, trainer: { specificationVersion: 'v1', name: 'fixed', train: async () => trained } },
  });
  const result = await pipeline.run('Classify the sentiment.');
  expect(result.trainedModel).toEqual(trained);
  expect(result.demo).toBeUndefined();
  expect(pipeline.options.stages.demoCreator).toBeNull();
});

it('caches teacher calls in the user cache folder, as the CLI does ($P2M_CACHE_DIR/llm)', async () => {
  const cache = join(root, 'user-cache');
  vi.stubEnv('P2M_CACHE_DIR', cache);
  const options = (outDir: string): CreatePipelineOptions => ({
    outDir,
    teacher,
    stages: { promptParser: fixedParser, datasetRetriever: null, datasetGenerator: askingGenerator, modelRetriever: null, trainer: null, evaluator: null },
  });
  const teacher = new MockLanguageModel({ respond: 'positive' });
  await createPipeline(options(join(root, 'cached-1'))).run('Classify the sentiment.');
  expect(teacher.calls).toHaveLength(20);
  expect((await readdir(join(cache, 'llm'), { recursive: true })).length).toBeGreaterThan(0);
  expect(existsSync(join(root, 'cached-1', 'cache'))).toBe(false);
  // A new run folder pays for nothing twice.
  await createPipeline(options(join(root, 'cached-2'))).run('Classify the sentiment.');
  expect(teacher.calls).toHaveLength(20);
});

it('runs the CLI preflight before the first paid call: every failing check in one error', async () => {
  const teacher = new MockLanguageModel({ respond: 'positive' });
  Object.assign(teacher, { checkAccess: async () => Promise.reject(new Error('the endpoint rejected the API key (401).')) });
  const options: CreatePipelineOptions = {
    outDir: join(root, 'preflight'),
    cacheDir: false,
    teacher,
    numExamples: 20,
    trainerBackend: new LocalBackend({ python: join(root, 'no-such-python') }),
    stageOptions: { modelRetriever: { index: join(root, 'no-such-index.jsonl') } },
    stages: { promptParser: fixedParser, datasetRetriever: null, datasetGenerator: askingGenerator },
  };
  const failure = await createPipeline(options).run('Classify the sentiment.').catch((error: unknown) => error);
  expect(failure).toMatchObject({ name: 'PreflightError', exitCategory: 'configuration' });
  const checks = (failure as { failures: Array<{ check: string; message: string }> }).failures;
  expect(checks.map((item) => item.check).sort()).toEqual(['model index', 'teacher mock-model', 'training backend (local)']);
  expect(checks.find((item) => item.check === 'training backend (local)')!.message).toMatch(/no-such-python was not found/);
  expect(teacher.calls).toHaveLength(0);
  // preflight: false skips the checks (the run then fails later, at the stage that needs the thing).
  const unchecked = await createPipeline({ ...options, preflight: false, stages: { ...options.stages, modelRetriever: null, trainer: null } }).run('Classify the sentiment.');
  expect(unchecked.generatedCount).toBe(20);
});

it('ends a pipeline run with the demo when asked (demo: true): a page and API answering with the trained model', async () => {
  const modelDir = join(root, 'student');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  const trained: TrainedModel = { backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} };
  const pipeline = createPipeline({
    outDir: join(root, 'run'),
    teacher: new MockLanguageModel({ respond: 'unused' }),
    cacheDir: false,
    training: { baseModel: 't5-small' },
    demo: true,
    stageOptions: { demo: { port: 0 } },
    stages: {
      promptParser: fixedParser,
      datasetGenerator: {
        specificationVersion: 'v1',
        name: 'fixed',
        async generate(_spec, options) {
          const rows = Array.from({ length: 20 }, (_, index) => ({ input: `review ${index} was great`, output: 'positive' }));
          await writeFile(options.outputPath, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
          return { path: options.outputPath, count: rows.length, summary: {} };
        },
      },
      modelRetriever: null,
      trainer: { specificationVersion: 'v1', name: 'fixed', train: async () => trained },
      evaluator: null,
    },
  });
  const result = await pipeline.run('Classify the sentiment.');
  expect(result.demo?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  try {
    const response = await fetch(new URL('/api/predict', result.demo!.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: 'an awful, boring film' }) });
    expect(await response.json()).toMatchObject({ output: 'negative' });
    const info = (await (await fetch(new URL('/api/info', result.demo!.url))).json()) as { instruction: string; model: { runtime: string } };
    expect(info).toMatchObject({ instruction: 'Classify the sentiment.', model: { runtime: 'onnx' } });
  } finally {
    await result.demo?.close();
  }
});

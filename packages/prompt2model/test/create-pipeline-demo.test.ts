import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinySeq2Seq, MockLanguageModel, SENTIMENT_LABELS } from '@prompt2model/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PromptSpec, TrainedModel } from '@prompt2model/core';
import { createPipeline } from '../src/create-pipeline.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-pipeline-demo-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

it('ends a pipeline run with the default demo stage: a page and API answering with the trained model', async () => {
  const modelDir = join(root, 'student');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  const spec: PromptSpec = { instruction: 'Classify the sentiment.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' };
  const trained: TrainedModel = { backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} };
  const pipeline = createPipeline({
    outDir: join(root, 'run'),
    teacher: new MockLanguageModel({ respond: 'unused' }),
    training: { baseModel: 't5-small' },
    stageOptions: { demo: { port: 0 } },
    stages: {
      promptParser: { specificationVersion: 'v1', name: 'fixed', parse: async () => spec },
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

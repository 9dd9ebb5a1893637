import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core';
import { estimateTrainingCost, formatEstimate, parseTrainingJob, validateTrainingData, type DataFormatRules } from '../src/internal.js';
import { tempDir, toyRows, writeRows } from './helpers.js';

const CHAT_RULES: DataFormatRules = { name: 'managed API', format: 'chat', minTrainExamples: 10, maxExampleTokens: 50, maxFileBytes: 100_000 };

describe('validateTrainingData', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('measures valid data and warns about truncation and duplicates', async () => {
    const rows = [...toyRows(20), { input: 'x'.repeat(400), output: 'long input' }, toyRows(1)[0]];
    const train = await writeRows(join(dir, 'ok-train.jsonl'), rows);
    const validation = await writeRows(join(dir, 'ok-val.jsonl'), toyRows(5, 100));
    const job = parseTrainingJob({ baseModel: 't5-small', maxSourceLength: 64, data: { train, validation } });
    const summary = await validateTrainingData(job);
    expect(summary.train.count).toBe(22);
    expect(summary.validation?.count).toBe(5);
    expect(summary.train.duplicates).toBe(1);
    expect(summary.train.truncatedSource).toBe(1);
    expect(summary.train.tokens).toBeGreaterThan(22 * 5);
    expect(summary.warnings.join('\n')).toMatch(/longer than maxSourceLength=64/);
    expect(summary.warnings.join('\n')).toMatch(/1 duplicate/);
  });

  it('lists every bad row with file and line, before anything is launched', async () => {
    const train = await writeRows(join(dir, 'bad-train.jsonl'), [
      { input: 'a', output: 'b' },
      { input: 'a' },
      { input: 'c', output: '   ' },
      '{"input": "broken',
    ]);
    const job = parseTrainingJob({ baseModel: 't5-small', data: { train } });
    const error = await validateTrainingData(job).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    const messages = (error as ValidationError).issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
    expect(messages).toMatch(/row 2: output/);
    expect(messages).toMatch(/row 3: output is empty/);
    expect(messages).toMatch(/line 4/);
    expect((error as ValidationError).hint).toMatch(/input/);
  });

  it('reports a missing file', async () => {
    const job = parseTrainingJob({ baseModel: 't5-small', data: { train: join(dir, 'nope.jsonl') } });
    await expect(validateTrainingData(job)).rejects.toThrow(/train file not found/);
  });

  it('applies the backend format rules: minimum count and per-example tokens in chat format', async () => {
    const few = await writeRows(join(dir, 'few.jsonl'), toyRows(3));
    const job = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', data: { train: few } });
    await expect(validateTrainingData(job, CHAT_RULES)).rejects.toThrow(/needs at least 10/);
    const long = await writeRows(join(dir, 'long.jsonl'), [...toyRows(10), { input: 'word '.repeat(100), output: 'x' }]);
    const longJob = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', data: { train: long } });
    await expect(validateTrainingData(longJob, CHAT_RULES)).rejects.toThrow(/accepts at most 50 per example/);
    const fine = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', instruction: 'Add one.', data: { train: await writeRows(join(dir, 'ten.jsonl'), toyRows(12)) } });
    const summary = await validateTrainingData(fine, CHAT_RULES);
    expect(summary.train.count).toBe(12);
    expect(summary.train.bytes).toBeGreaterThan(12 * 50);
  });
});

describe('estimateTrainingCost', () => {
  const data = {
    train: { path: 't', count: 1000, tokens: 100_000, maxExampleTokens: 200, bytes: 1, truncatedSource: 0, truncatedTarget: 0, duplicates: 0 },
    validation: { path: 'v', count: 100, tokens: 10_000, maxExampleTokens: 200, bytes: 1, truncatedSource: 0, truncatedTarget: 0, duplicates: 0 },
    warnings: [],
  };

  it('prices managed training per token: tokens × whole epochs', () => {
    const job = parseTrainingJob({ baseModel: 'gpt-4o-mini', epochs: 2.5, batchSize: 10, data: { train: 't' } });
    const estimate = estimateTrainingCost(job, data, { kind: 'per-token', usdPer1MTokens: 3, wholeEpochs: true });
    expect(estimate.epochs).toBe(3);
    expect(estimate.trainedTokens).toBe(300_000);
    expect(estimate.usd).toBeCloseTo(0.9, 10);
    expect(estimate.steps).toBe(300);
    expect(formatEstimate(estimate, 'openai')).toMatch(/\$0\.90 at \$3\/1M training tokens/);
  });

  it('prices GPU training by time: tokens / throughput × GPUs × hourly price', () => {
    const job = parseTrainingJob({ baseModel: 't5-small', epochs: 3, batchSize: 8, gradientAccumulationSteps: 2, data: { train: 't', validation: 'v' } });
    const estimate = estimateTrainingCost(job, data, { kind: 'gpu-time', gpuHourlyUsd: 2, tokensPerSecondPerGpu: 1000, gpus: 2 });
    // 300k train tokens + 30k/3 eval tokens over 2000 tokens/s = 155 s wall = 310 s of GPU time.
    expect(estimate.hours).toBeCloseTo(155 / 3600, 10);
    expect(estimate.gpuHours).toBeCloseTo(310 / 3600, 10);
    expect(estimate.usd).toBeCloseTo((310 / 3600) * 2, 10);
    expect(estimate.steps).toBe(Math.ceil(1000 / 32) * 3);
    expect(formatEstimate(estimate, 'local')).toMatch(/GPU-hours × \$2\/h/);
  });
});

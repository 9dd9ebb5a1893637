import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStageContext, InvalidArgumentError, Prompt2ModelError, type Executor, type Prediction, type StageContext } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { buildTinySeq2Seq, lastUserText, SENTIMENT_LABELS, lastKeywordSentiment, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrateCascade } from '../src/cascade/calibration.js';
import { createCascade } from '../src/cascade/cascade.js';
import { LanguageModelExecutor } from '../src/executors/language-model-executor.js';
import { OnnxExecutor } from '../src/executors/onnx-executor.js';

let root: string;
let studentDir: string;
let server: OpenAICompatibleServer;

const teacherLabel = lastKeywordSentiment;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-cascade-'));
  // Keywords vote: one clear keyword (or two agreeing) is a confident answer, a tie is a coin flip.
  studentDir = (await buildTinySeq2Seq(join(root, 'student'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords' })).dir;
  server = await startOpenAICompatibleServer({ respond: (request) => teacherLabel(lastUserText(request)) });
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function context(name: string, options: { maxCostUsd?: number } = {}): Promise<StageContext> {
  return createStageContext({ outDir: join(root, name), cacheDir: join(root, 'llm-cache'), scheduler: { initialBackoffMs: 1, maxBackoffMs: 5 }, ...options });
}

const teacherModel = () => createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('gpt-4o-mini');

describe('createCascade over a tiny ONNX student and a loopback OpenAI teacher', () => {
  const inputs = ['a great film', 'an awful boring film', 'great plot but awful acting', 'bad start but good ending', 'a good good movie'];

  it('keeps confident student answers and sends the rest to the teacher in one batch, saying who answered', async () => {
    const ctx = await context('routing');
    const probe = new OnnxExecutor({ model: studentDir });
    const confidences = (await probe.execute(inputs, ctx)).map((prediction) => prediction.confidence);
    await probe.dispose();
    expect(confidences.every((value) => typeof value === 'number' && value > 0 && value <= 1)).toBe(true);
    // The mixed reviews are a tie of votes: the student is far less sure of them.
    const sure = [0, 1, 4].map((index) => confidences[index]!);
    const unsure = [2, 3].map((index) => confidences[index]!);
    expect(Math.max(...unsure)).toBeLessThan(Math.min(...sure));
    const threshold = (Math.max(...unsure) + Math.min(...sure)) / 2;

    server.reset();
    const cascade = createCascade({ student: new OnnxExecutor({ model: studentDir }), teacher: new LanguageModelExecutor({ model: teacherModel(), instruction: 'Classify the sentiment.' }), threshold });
    const answers = await cascade.execute(inputs, ctx);
    expect(answers.map((answer) => [answer.output, answer.answeredBy])).toEqual([
      ['positive', 'student'],
      ['negative', 'student'],
      ['negative', 'teacher'],
      ['positive', 'teacher'],
      ['positive', 'student'],
    ]);
    // Only the unsure inputs reached the teacher.
    expect(server.requests.map((request) => lastUserText(request))).toEqual(['great plot but awful acting', 'bad start but good ending']);
    expect(answers[2]!.studentConfidence).toBe(confidences[2]);
    expect(answers[2]!.confidence).toBeUndefined();
    expect(answers[0]!.confidence).toBe(confidences[0]);
    expect(cascade.counts).toMatchObject({ student: 3, teacher: 2 });
    expect(cascade.lastRun).toMatchObject({ requests: 5, answeredBy: { student: 3, teacher: 2 }, teacher: { requests: 2 } });
    expect(cascade.lastRun!.costUsd).toBeGreaterThan(0);
    expect(cascade.counts.teacherCostUsd).toBeCloseTo(cascade.lastRun!.teacher!.costUsd, 12);

    // Streaming: a confident answer comes whole from the student; an unsure one from the teacher.
    const pieces: string[] = [];
    const streamed = await cascade.stream('great plot but awful acting', ctx, (text) => pieces.push(text));
    expect([streamed.output, streamed.answeredBy, pieces.join('')]).toEqual(['negative', 'teacher', 'negative']);
    expect(cascade.counts).toMatchObject({ student: 3, teacher: 3 });

    // Threshold 0 keeps every answer with a confidence; Infinity asks the teacher for all.
    const all = createCascade({ student: cascade.student, teacher: cascade.teacher, threshold: Number.POSITIVE_INFINITY });
    expect((await all.execute(inputs.slice(0, 2), ctx)).map((answer) => answer.answeredBy)).toEqual(['teacher', 'teacher']);
    await cascade.dispose();
  });

  it('refuses a cascade without a threshold or with one out of range', () => {
    const student = new OnnxExecutor({ model: studentDir });
    const teacher = new LanguageModelExecutor({ model: teacherModel() });
    expect(() => createCascade({ student, teacher })).toThrow(/needs a `threshold` or a `calibration`/);
    expect(() => createCascade({ student, teacher, threshold: -1 })).toThrow(InvalidArgumentError);
    expect(createCascade({ student, teacher, calibration: { chosen: { threshold: null, coverage: 0, quality: 1 } } }).threshold).toBe(Number.POSITIVE_INFINITY);
  });

  it('calibrates on held-out rows through the LLM cache: a second calibration pays for nothing', async () => {
    const examples = inputs.map((input) => ({ input, output: teacherLabel(input) }));
    server.reset();
    const run = async () => {
      const student = new OnnxExecutor({ model: studentDir });
      try {
        return await calibrateCascade({ student, teacher: new LanguageModelExecutor({ model: teacherModel(), stage: 'calibrate' }), examples, taskType: 'classification', metrics: ['exact_match'] }, await context('calibrate'));
      } finally {
        await student.dispose();
      }
    };
    const first = await run();
    const paid = server.stats.completed;
    expect(paid).toBe(inputs.length);
    // The student is right on the three clear reviews, and wrong on one mixed review at least.
    expect(first.metric).toBe('exact_match');
    expect(first.teacher.quality).toBe(1);
    expect(first.chosen.coverage).toBeCloseTo(0.6);
    expect(first.chosen.quality).toBe(1);
    expect(first.teacher).toMatchObject({ model: 'gpt-4o-mini', requests: 5, price: { inputPer1M: 0.15, outputPer1M: 0.6 } });
    expect(first.costPer1000.cascadeUsd).toBeCloseTo(first.costPer1000.teacherOnlyUsd * 0.4, 12);
    expect(first.rows).toHaveLength(5);
    const second = await run();
    expect(server.stats.completed).toBe(paid);
    expect(second.teacher.cachedRequests).toBe(5);
    expect(second.chosen).toEqual(first.chosen);
  });

  it('explains a student that reports no confidence', async () => {
    const blind: Executor = { specificationVersion: 'v1', name: 'python-worker', modelId: 'm', execute: async (list) => list.map((): Prediction => ({ output: 'x', latencyMs: 1 })) };
    const error = await calibrateCascade({ student: blind, teacher: new LanguageModelExecutor({ model: teacherModel() }), examples: [{ input: 'a', output: 'b' }] }, await context('blind')).catch((caught: unknown) => caught);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect((error as Prompt2ModelError).hint).toMatch(/ONNX export/);
  });
});

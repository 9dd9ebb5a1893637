import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';
import { startServerProcess } from './support/start-server.js';

/** The built CLI, as `npx prompt2model` runs it (test depends on build). */
const bin = resolve(import.meta.dirname, '../bin/prompt2model.js');
const instruction = 'Classify the sentiment of the review.';
let root: string;
let modelDir: string;
let runDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-serve-cli-'));
  modelDir = join(root, 'student');
  await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  runDir = join(root, 'sentiment');
  await mkdir(runDir, { recursive: true });
  await writeFile(join(runDir, 'prompt-spec.json'), JSON.stringify({ instruction, examples: [{ input: 'a great film', output: 'positive' }], language: 'en' }));
  await writeFile(join(runDir, 'trained-model.json'), JSON.stringify({ backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }));
  const rows = [
    { input: 'a great film', output: 'positive' },
    { input: 'boring and awful', output: 'negative' },
    { input: 'I loved it', output: 'positive' },
    { input: 'bad acting', output: 'negative' },
  ];
  await writeFile(join(root, 'test.jsonl'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Starts `prompt2model serve` in a fresh Node process from the built dist and reads its first stdout line. */
function startServe(args: string[]) {
  return startServerProcess<{ url: string; model: string; apiKey?: string }>([bin, 'serve', ...args], { PATH: process.env.PATH, HOME: process.env.HOME });
}

describe('prompt2model serve', () => {
  it('serves a run folder behind the OpenAI API, and our own pipeline uses it as a teacher through OPENAI_BASE_URL', async () => {
    const served = await startServe(['--model', runDir, '--port', '0', '--json']);
    try {
      expect(served.first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      expect(served.first.model).toBe('sentiment');
      expect(served.first.apiKey).toBeUndefined();
      expect(served.stderr()).toContain(`Task from ${join(runDir, 'prompt-spec.json')}`);
      const client = new OpenAI({ baseURL: served.first.url, apiKey: 'unused-on-loopback', maxRetries: 0 });
      const chat = await client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'what a great film' }] });
      expect(chat.choices[0]!.message.content).toBe('positive');
      const stream = await client.completions.create({ model: 'sentiment', prompt: 'boring', stream: true });
      let text = '';
      for await (const part of stream) text += part.choices[0]?.text ?? '';
      expect(text).toBe('negative');

      // `eval --compare-teacher`: the teacher is the served student over HTTP (the OpenAI provider,
      // OPENAI_BASE_URL), the student the same folder run in process: the same answers.
      const evaluated = await runCliCaptured(
        ['eval', '--model', modelDir, '--instruction', instruction, '--data', join(root, 'test.jsonl'), '--metrics', 'em', '--compare-teacher', '--teacher', 'openai:sentiment', '--json'],
        { OPENAI_BASE_URL: served.first.url, OPENAI_API_KEY: ['sk', 'unused-on-loopback-0123456789'].join('-') },
      );
      expect(evaluated.stderr).not.toMatch(/error/i);
      expect(evaluated.code).toBe(0);
      const comparison = JSON.parse(evaluated.stdout) as { teacher: { metrics: Record<string, number>; count: number }; student: { metrics: Record<string, number> } };
      expect(comparison.teacher.count).toBe(4);
      expect(comparison.teacher.metrics).toEqual(comparison.student.metrics);
      expect(comparison.teacher.metrics.exact_match).toBe(1);
      const stats = (await (await fetch(`${served.first.url}/stats`)).json()) as { requests: { chat: number } };
      expect(stats.requests.chat).toBeGreaterThanOrEqual(5);
    } finally {
      served.child.kill('SIGINT');
    }
    expect(await served.exit).toBe(0);
    await expect(fetch(`${served.first.url}/models`)).rejects.toThrow();
  }, 90_000);

  it('beyond loopback makes an API key, prints it once, and answers only requests that carry it', async () => {
    const served = await startServe(['--model', modelDir, '--instruction', instruction, '--model-name', 'student-v1', '--host', '0.0.0.0', '--port', '0', '--json']);
    try {
      expect(served.first.apiKey).toMatch(/^p2m-[\w-]{30,}$/);
      expect(served.stderr()).toMatch(/warning: .*reachable from other machines/);
      expect(served.stderr()).not.toContain(served.first.apiKey);
      await expect(new OpenAI({ baseURL: served.first.url, apiKey: 'wrong', maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
      const client = new OpenAI({ baseURL: served.first.url, apiKey: served.first.apiKey!, maxRetries: 0 });
      expect((await client.models.list()).data.map((model) => model.id)).toEqual(['student-v1']);
      expect((await client.completions.create({ model: 'student-v1', prompt: 'so bad' })).choices[0]!.text).toBe('negative');
    } finally {
      served.child.kill('SIGINT');
    }
    expect(await served.exit).toBe(0);
  }, 60_000);

  it('says what is missing: no model, an API model, a folder that is not there', async () => {
    const none = await runCliCaptured(['serve']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('hint: Pass --model RUN');
    const managed = await runCliCaptured(['serve', '--model', 'openai:gpt-4o-mini']);
    expect(managed.code).toBe(2);
    expect(managed.stderr).toMatch(/API model.*\nhint: Pass --model RUN/s);
    const missing = await runCliCaptured(['serve', '--model', join(root, 'nope')]);
    expect(missing.code).toBe(2);
    // --dtype q8 of an export without int8 weights: said before anything loads.
    const noQ8 = await runCliCaptured(['serve', '--model', modelDir, '--instruction', instruction, '--dtype', 'q8', '--port', '0']);
    expect(noQ8.code).toBe(2);
    expect(noQ8.stderr).toMatch(/has no onnx-q8.*\nhint: Export it first/s);
    const demoList = await runCliCaptured(['demo', '--model', modelDir, '--instruction', instruction, '--dtype', 'fp32,q8', '--port', '0']);
    expect(demoList.code).toBe(2);
    expect(demoList.stderr).toContain('a served model runs one ONNX weights variant');
  });

  it('--dtype q8 serves the int8 weights of an export that has them', async () => {
    const withQ8 = join(root, 'student-q8');
    await buildTinySeq2Seq(withQ8, { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
    const served = await startServe(['--model', withQ8, '--instruction', instruction, '--dtype', 'q8', '--port', '0', '--json']);
    try {
      const client = new OpenAI({ baseURL: served.first.url, apiKey: 'unused-on-loopback', maxRetries: 0 });
      expect((await client.completions.create({ model: served.first.model, prompt: 'so bad' })).choices[0]!.text).toBe('negative');
      expect(served.stderr()).not.toContain('--dtype q8');
    } finally {
      served.child.kill('SIGINT');
    }
    expect(await served.exit).toBe(0);
    // Without --dtype it runs fp32 and says that q8 is there.
    const fp32 = await startServe(['--model', withQ8, '--instruction', instruction, '--port', '0', '--json']);
    try {
      expect(fp32.stderr()).toContain('Serving the fp32 ONNX weights; --dtype q8 serves the int8 ones');
    } finally {
      fp32.child.kill('SIGINT');
    }
    expect(await fp32.exit).toBe(0);
  }, 60_000);
});

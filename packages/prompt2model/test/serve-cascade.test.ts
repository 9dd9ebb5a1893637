import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { buildTinySeq2Seq, lastKeywordSentiment, lastUserText, sampleCascadeCalibration, SENTIMENT_LABELS, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';
import { startServerProcess } from './support/start-server.js';

/** The built CLI, as `npx prompt2model` runs it (test depends on build). */
const bin = resolve(import.meta.dirname, '../bin/prompt2model.js');
const instruction = 'Classify the sentiment of the review.';
let root: string;
let runDir: string;
let teacher: OpenAICompatibleServer;

/** A calibration whose chosen threshold sits between the keyword student's tie (about 0.5) and its clear answers (above 0.99). */
const calibration = sampleCascadeCalibration({
  curve: [{ threshold: 0.9, coverage: 0.6, quality: 1, relativeQuality: 1 }],
  chosen: { threshold: 0.9, coverage: 0.6, quality: 1, relativeQuality: 1 },
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-serve-cascade-'));
  runDir = join(root, 'sentiment');
  await mkdir(runDir, { recursive: true });
  await buildTinySeq2Seq(join(runDir, 'model'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  const files: Record<string, unknown> = {
    'prompt-spec.json': { instruction, examples: [{ input: 'a great film', output: 'positive' }], language: 'en' },
    'trained-model.json': { backend: 'local', reference: 'model', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} },
    'manifest.json': { version: 1, createdAt: 'now', updatedAt: 'now', config: { command: 'run', teacher: 'gpt-4o-mini' }, stages: {} },
  };
  for (const [file, value] of Object.entries(files)) await writeFile(join(runDir, file), JSON.stringify(value));
  teacher = await startOpenAICompatibleServer({ respond: (request) => lastKeywordSentiment(lastUserText(request)) });
});

afterAll(async () => {
  await teacher.close();
  await rm(root, { recursive: true, force: true });
});

const env = () => ({ PATH: process.env.PATH, HOME: process.env.HOME, OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: teacher.url, P2M_CACHE_DIR: join(root, 'cache') });

describe('prompt2model serve --cascade', () => {
  it('refuses a run without a calibration unless --threshold is given, and --threshold without --cascade', async () => {
    const missing = await runCliCaptured(['serve', '--model', runDir, '--cascade', '--port', '0'], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/has no cascade calibration \(calibration\.json\), and no --threshold was given/);
    expect(missing.stderr).toMatch(/hint: Calibrate it first \(`prompt2model calibrate /);
    const alone = await runCliCaptured(['serve', '--model', runDir, '--threshold', '0.5', '--port', '0'], env());
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--threshold goes with --cascade/);
  });

  it("answers with the student when it is sure and with the run's teacher otherwise, saying who answered; /v1/stats counts both", async () => {
    await writeFile(join(runDir, 'calibration.json'), JSON.stringify(calibration));
    teacher.reset();
    const served = await startServerProcess<{ url: string }>([bin, 'serve', '--model', runDir, '--cascade', '--port', '0', '--json'], env());
    try {
      const client = new OpenAI({ baseURL: served.first.url, apiKey: 'unused-on-loopback', maxRetries: 0 });
      const ask = async (content: string) => {
        const response = await client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content }] });
        return [response.choices[0]!.message.content, (response.choices[0] as unknown as { answered_by?: string }).answered_by];
      };
      expect(await ask('a great film')).toEqual(['positive', 'student']);
      // A tie of keywords: the student is unsure, the teacher reads the last one.
      expect(await ask('great plot but awful acting')).toEqual(['negative', 'teacher']);
      expect(teacher.requests.map((request) => lastUserText(request))).toEqual(['great plot but awful acting']);
      expect(teacher.requests[0]!.messages[0]).toEqual({ role: 'system', content: instruction });
      // Streaming: the student's answer comes whole once its confidence is known; an unsure one from the teacher.
      const stream = await client.completions.create({ model: 'sentiment', prompt: 'bad start but good ending', stream: true });
      let text = '';
      for await (const part of stream) text += part.choices[0]?.text ?? '';
      expect(text).toBe('positive');
      expect(teacher.requests).toHaveLength(2);
      const stats = (await (await fetch(`${served.first.url}/stats`)).json()) as { answers: { answeredBy: { student: number; teacher: number } } };
      expect(stats.answers.answeredBy).toEqual({ student: 1, teacher: 2 });
      expect(served.stderr()).toMatch(/Cascade: the student answers when its confidence is at least 0\.9000 \(calibrated on 5 validation examples: 60% of calls\), else gpt-4o-mini\./);
    } finally {
      served.child.kill('SIGINT');
      await served.exit;
    }
  });

  it('--threshold overrides the calibration (0: the student keeps every answer)', async () => {
    teacher.reset();
    const served = await startServerProcess<{ url: string }>([bin, 'serve', '--model', runDir, '--cascade', '--threshold', '0', '--port', '0', '--json'], env());
    try {
      const client = new OpenAI({ baseURL: served.first.url, apiKey: 'unused-on-loopback', maxRetries: 0 });
      const response = await client.chat.completions.create({ model: 'sentiment', messages: [{ role: 'user', content: 'great plot but awful acting' }] });
      expect((response.choices[0] as unknown as { answered_by?: string }).answered_by).toBe('student');
      expect(teacher.stats.completed).toBe(0);
    } finally {
      served.child.kill('SIGINT');
      await served.exit;
    }
  });
});

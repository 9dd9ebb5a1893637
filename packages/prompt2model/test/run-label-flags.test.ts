import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { runCliCaptured } from './support/run-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

let dir: string;
let server: OpenAICompatibleServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-run-votes-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  server = await startOpenAICompatibleServer({ respond: sentimentTeacher });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('prompt2model run: label-voting flags', () => {
  it('reach the dataset generator, as with generate', async () => {
    const out = join(dir, 'run');
    const result = await runCliCaptured(
      [
        'run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--num-examples', '10', '--teacher', 'loopback-model',
        '--base-model', 'acme/t5-small', '--no-train', '--no-evaluate',
        '--samples-per-input', '4', '--max-samples-per-input', '6', '--label-temperature', '0.2', '--min-agreement', '0.6',
      ],
      { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key' },
    );
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    const labelling = server.requests.filter((request) => request.response_format === undefined && !String(request.messages[0]?.content).includes('model cards'));
    const votes = labelling.filter((request) => request.temperature === 0.2);
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((request) => (request.n ?? 1) <= 6)).toBe(true);
    const stored = JSON.parse(await readFile(join(out, 'generation-summary.json'), 'utf8'));
    expect(stored.labelNoise.inputsVoted).toBeGreaterThanOrEqual(10);
    const bad = await runCliCaptured(['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, 'bad'), '--label-temperature', '3'], {
      OPENAI_BASE_URL: server.url,
      OPENAI_API_KEY: 'test-key',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--label-temperature must be in [0, 2]');
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOpenAIBatchServer, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.js';
import { fnv1a32 } from '@prompt2model/core/internal';
import { runCliCaptured } from './support/run-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

let dir: string;
let server: OpenAICompatibleServer;



beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-generate-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  server = await startOpenAICompatibleServer({
    retryAfterSeconds: 0,
    faults: { rate: 0.05, kinds: ['server-error'], seed: 5 },
    respond: sentimentTeacher,
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function run(argv: string[]) {
  return runCliCaptured(argv, { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key' });
}

async function rows(path: string): Promise<Array<{ input: string; output: string; meta?: Record<string, unknown> }>> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

describe('prompt2model generate', () => {
  it('writes DIR/dataset.jsonl and a stored summary, resumes for free, and extends to a larger N', async () => {
    const out = join(dir, 'run');
    const first = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '20', '--out', out, '--teacher', 'loopback-model', '--json']);
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ count: 20, target: 20, stoppedBy: 'target', path: join(out, 'dataset.jsonl') });
    expect(summary.rejected).toBeTypeOf('object');
    // What this process sent, from the scheduler: every generation request at least; the server's
    // injected 500s were retried; it never answered 429.
    expect(summary.requests.sent).toBeGreaterThanOrEqual(summary.generationRequests);
    expect(summary.requests.retries).toBeLessThanOrEqual(summary.requests.sent);
    expect(summary.requests).toMatchObject({ rateLimited: 0, rateLimitPauses: 0 });
    const written = await rows(join(out, 'dataset.jsonl'));
    expect(written).toHaveLength(20);
    for (const row of written) {
      expect(row.output).toBe(row.input.includes('good') ? 'positive' : 'negative');
      expect(row.meta).toMatchObject({ teacher: 'loopback-model', source: 'generated' });
    }
    const stored = JSON.parse(await readFile(join(out, 'generation-summary.json'), 'utf8'));
    expect(stored).toMatchObject({ count: 20, target: 20 });

    const requests = server.stats.requests;
    const again = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '20', '--out', out, '--teacher', 'loopback-model']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Generated 20 of 20 examples');
    expect(server.stats.requests).toBe(requests);
    // A finished run sends nothing, so it reports no requests; the first run's text names them.
    expect(again.stdout).not.toContain('Requests this run');

    const more = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '30', '--out', out, '--teacher', 'loopback-model']);
    expect(more.code).toBe(0);
    expect(more.stdout).toContain('Generated 30 of 30 examples');
    expect(more.stdout).toContain('Resumed: 20 examples');
    expect(more.stdout).toMatch(/Rejected: /);
    // Non-TTY: stage start/finish lines on stderr (step lines only for stages that run over a second).
    expect(more.stderr).toContain('▶ generate');
    expect(more.stderr).toMatch(/✓ generate: done/);
    const extended = await rows(join(out, 'dataset.jsonl'));
    expect(extended).toHaveLength(30);
    expect(extended.slice(0, 20)).toEqual(written);
  });

  it('drops examples that overlap --eval-set', async () => {
    const reference = join(dir, 'reference');
    expect((await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '12', '--out', reference, '--teacher', 'loopback-model'])).code).toBe(0);
    const evaluation = (await rows(join(reference, 'dataset.jsonl'))).slice(0, 5);
    await writeFile(join(dir, 'eval.jsonl'), evaluation.map((row) => JSON.stringify({ input: row.input, output: row.output })).join('\n'));
    const out = join(dir, 'decontaminated');
    const result = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '12', '--out', out, '--teacher', 'loopback-model', '--eval-set', join(dir, 'eval.jsonl'), '--json']);
    expect(result.code).toBe(0);
    // The five copies, and near copies of them (this teacher's inputs differ in a digit or two).
    expect(JSON.parse(result.stdout).rejected.contaminated).toBeGreaterThanOrEqual(5);
    const kept = new Set((await rows(join(out, 'dataset.jsonl'))).map((row) => row.input));
    expect(evaluation.filter((row) => kept.has(row.input))).toEqual([]);
  });

  it('--batch runs through the OpenAI Batch API and writes the same kind of dataset', async () => {
    const batchServer = await startOpenAIBatchServer({
      respond: (body, { choiceIndex }) => {
        if (body.response_format) {
          const base = fnv1a32(JSON.stringify(body.messages) + String(body.seed)) + choiceIndex * 1000;
          return JSON.stringify({ examples: [0, 1, 2].map((i) => ({ input: `Batch review ${base + i}: a ${(base + i) % 2 === 0 ? 'good' : 'bad'} stay, item ${base + i}`, output: '' })) });
        }
        return String(body.messages.at(-1)?.content ?? '').includes('good') ? 'positive' : 'negative';
      },
    });
    try {
      const out = join(dir, 'batch');
      let stdout = '';
      let stderr = '';
      const code = await runCli(
        ['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '15', '--out', out, '--teacher', 'gpt-4o-mini', '--batch', '--batch-poll-interval', '0.01', '--json'],
        { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), isTTY: false, env: { OPENAI_BASE_URL: batchServer.url, OPENAI_API_KEY: 'test-key' } },
      );
      expect(stderr).not.toContain('error');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ count: 15, stoppedBy: 'target' });
      const written = await rows(join(out, 'dataset.jsonl'));
      expect(written).toHaveLength(15);
      for (const row of written) expect(row.output).toBe(row.input.includes('good') ? 'positive' : 'negative');
      expect(batchServer.stats.batchesCreated).toBeGreaterThanOrEqual(2);
      expect(batchServer.stats.batchesCreated).toBeLessThanOrEqual(6);
      expect(JSON.parse(await readFile(join(out, 'batches.json'), 'utf8')).batches.length).toBe(batchServer.stats.batchesCreated);
    } finally {
      await batchServer.close();
    }
  });

  it('stops at --max-cost with exit code 3 and keeps what it generated', async () => {
    const out = join(dir, 'budget');
    const result = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '500', '--out', out, '--teacher', 'gpt-4o-mini', '--max-cost', '0.001']);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('budget cap');
    expect(result.stdout).toMatch(/Requests this run: [1-9]\d* sent, \d+ retried/);
    const kept = await rows(join(out, 'dataset.jsonl'));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(500);
  });

  it('passes the label-voting flags to the generator and shows the noise estimate', async () => {
    const out = join(dir, 'votes');
    server.reset();
    const result = await run([
      'generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '8', '--out', out, '--teacher', 'loopback-model',
      '--samples-per-input', '4', '--max-samples-per-input', '6', '--label-temperature', '0.3', '--min-agreement', '0.6',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Label noise: about [\d.]+% of teacher votes/);
    // The accuracy estimate is never shown without its interval.
    expect(result.stdout).toMatch(/expected accuracy of the kept labels [\d.]+% \(95% Wilson interval [\d.]+–[\d.]+% over \d+ voted inputs\)/);
    const labelling = server.requests.filter((request) => request.response_format === undefined);
    expect(labelling.length).toBeGreaterThan(0);
    expect(labelling.every((request) => request.temperature === 0.3)).toBe(true);
    expect(labelling.every((request) => (request.n ?? 1) >= 1 && (request.n ?? 1) <= 6)).toBe(true);
    expect(labelling.some((request) => (request.n ?? 1) >= 4)).toBe(true);
    const stored = JSON.parse(await readFile(join(out, 'generation-summary.json'), 'utf8'));
    expect(stored.labelNoise).toMatchObject({ estimatedNoise: expect.any(Number), expectedAccuracy: expect.any(Number) });
    const bad = await run(['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '5', '--out', join(dir, 'bad'), '--samples-per-input', '5', '--max-samples-per-input', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-samples-per-input (3) is below --samples-per-input (5)');
  });

  it('reports usage errors', async () => {
    const missing = await run(['generate', '--prompt', join(dir, 'prompt.txt')]);
    expect(missing.code).toBe(2);
    const noFile = await run(['generate', '--prompt', join(dir, 'nope.txt'), '--num-examples', '5', '--out', join(dir, 'nope')]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('Cannot read the prompt file');
  });
});

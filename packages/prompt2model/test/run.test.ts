import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { runCliCaptured } from './support/run-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');
const FAKE_PREDICT = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-predict-worker.mjs');

const CARDS = [
  { id: 'acme/t5-small-review-sentiment', card: '---\nlicense: apache-2.0\npipeline_tag: text2text-generation\n---\n# T5 small for review sentiment\nA t5-small model fine-tuned for sentiment classification of product and restaurant reviews: positive or negative.', sizeBytes: 240_000_000, downloads: 5000 },
  { id: 'acme/marian-en-de', card: '---\nlicense: apache-2.0\n---\n# MarianMT English to German translation model', sizeBytes: 300_000_000, downloads: 90000 },
  { id: 'acme/t5-11b-sentiment', card: '---\nlicense: apache-2.0\n---\n# T5 11B fine-tuned for sentiment classification of reviews', sizeBytes: 45_000_000_000, downloads: 100000 },
  { id: 'acme/bart-news-summarization', card: '---\nlicense: mit\n---\n# BART for news summarization', sizeBytes: 1_600_000_000, downloads: 20000 },
];

let dir: string;
let server: OpenAICompatibleServer;


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-run-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  await writeFile(join(dir, 'cards.jsonl'), CARDS.map((card) => JSON.stringify(card)).join('\n') + '\n');
  server = await startOpenAICompatibleServer({
    respond: sentimentTeacher,
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function run(argv: string[]) {
  return runCliCaptured(argv, { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]), P2M_PREDICT_COMMAND: JSON.stringify([process.execPath, FAKE_PREDICT]) });
}

describe('prompt2model run', () => {
  it('runs parse → generate → split → HyDE model retrieval → training → evaluation in one resumable folder', async () => {
    const out = join(dir, 'run');
    const argv = ['run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--num-examples', '60', '--index', join(dir, 'cards.jsonl'), '--no-retrieve-datasets', '--teacher', 'loopback-model', '--epochs', '1', '--metrics', 'em,chrf++', '--json'];
    const first = await run(argv);
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result.spec.taskType).toBe('classification');
    expect(result.generatedCount).toBe(60);
    expect(result.splits.counts.train + result.splits.counts.validation + result.splits.counts.test).toBe(60);
    // The 45 GB model matches best but is filtered out, not merely ranked low.
    expect(result.candidates.map((c: { id: string }) => c.id)).not.toContain('acme/t5-11b-sentiment');
    expect(result.candidates[0].id).toBe('acme/t5-small-review-sentiment');
    expect(server.requests.some((r) => String(r.messages[0]?.content).includes('model cards'))).toBe(true);
    expect(result.trainedModel).toMatchObject({ baseModel: 'acme/t5-small-review-sentiment', method: 'lora', kind: 'local-folder' });
    // The stand-in predict worker echoes its prompt: the prompt is the training textualisation, so
    // exact match is 0 and chrF++ is low but not zero, on every test example.
    expect(result.splits.counts.test).toBeGreaterThan(0);
    expect(result.evalReport.count).toBe(result.splits.counts.test);
    expect(result.evalReport.metrics.exact_match).toBe(0);
    expect(result.evalReport.perExample[0].prediction).toContain('<task 0>Classify the sentiment');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    for (const stage of ['parse', 'generate', 'split', 'retrieve-models', 'train', 'evaluate']) expect(manifest.stages[stage].status).toBe('done');
    expect(JSON.stringify(manifest)).not.toContain('test-key');
    // The model card built from this real run folder shows the data statistics the generator wrote
    // (generation-summary.json through core's schema), not only hand-made ones.
    const summary = JSON.parse(await readFile(join(out, 'generation-summary.json'), 'utf8'));
    expect(summary).toMatchObject({ count: 60, meanAgreement: expect.any(Number), duplicates: expect.any(Number), decontaminated: expect.any(Number) });
    const card = await readFile(join(result.trainedModel.artifacts.merged, 'README.md'), 'utf8');
    expect(card).toContain(`teacher self-consistency agreement: ${(summary.meanAgreement * 100).toFixed(1)}%`);
    expect(card).toContain(`${summary.duplicates} near-duplicates removed`);
    expect(card).toContain(`${summary.decontaminated} examples removed by decontamination`);
    expect(card).toContain('60 examples generated by the teacher');

    const requests = server.stats.requests;
    const again = await run(argv);
    expect(again.code).toBe(0);
    expect(server.stats.requests).toBe(requests);
    expect(JSON.parse(again.stdout).trainedModel.reference).toBe(result.trainedModel.reference);
  });

  it('explains missing or inconsistent flags with a usage exit code', async () => {
    const noOut = await run(['run', '--prompt', join(dir, 'prompt.txt')]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out');
    const noBase = await run(['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, 'x'), '--backend', 'openai']);
    expect(noBase.code).toBe(2);
    expect(noBase.stderr).toContain('--base-model');
    const noPrompt = await run(['run', '--prompt', join(dir, 'missing.txt'), '--out', join(dir, 'y')]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toMatch(/Cannot read the prompt file .*: it does not exist\./);
  });
});

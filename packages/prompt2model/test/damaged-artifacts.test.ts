// Nothing half-written is trusted (issue 19): a finished `generate` folder whose dataset.jsonl was
// cut mid-line is redone from the LLM cache at no cost, and `train --data` refuses it meanwhile
// instead of silently training on half the rows. From the CLI, in fresh processes.
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');
const FAKE_PREDICT = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-predict-worker.mjs');

let dir: string;
let server: OpenAICompatibleServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-damaged-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  server = await startOpenAICompatibleServer({ respond: sentimentTeacher });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  OPENAI_BASE_URL: server.url,
  OPENAI_API_KEY: 'test-key',
  P2M_CACHE_DIR: join(dir, 'cache'),
  P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]),
  P2M_PREDICT_COMMAND: JSON.stringify([process.execPath, FAKE_PREDICT]),
});

async function jsonlRows(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.trim().split('\n').map((line) => JSON.parse(line) as unknown);
}

describe('a finished generate folder whose dataset.jsonl was cut mid-line', () => {
  it('train --data refuses it (exit 2), and rerunning generate redoes it from the cache, paying nothing', async () => {
    const out = join(dir, 'gen');
    const generate = ['generate', '--prompt', join(dir, 'prompt.txt'), '-n', '20', '--out', out, '--teacher', 'gpt-4o-mini'];
    const first = await spawnCli(generate, { env: env() });
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
    const dataset = join(out, 'dataset.jsonl');
    const whole = await readFile(dataset, 'utf8');
    expect(await jsonlRows(dataset)).toHaveLength(20);
    const paidRequests = server.stats.requests;

    // Cut mid-line, as a full disk or a killed copy would.
    await truncate(dataset, Math.floor((await stat(dataset)).size / 2) + 3);

    const train = await spawnCli(['train', '--data', out, '--base-model', 'acme/t5-small', '--no-export'], { env: env() });
    expect(train.code).toBe(2);
    expect(train.stderr).toMatch(/dataset\.jsonl no longer matches what generate wrote \(edited, truncated or removed\)/);
    expect(train.stderr).toMatch(/hint: Rerun the command that made .* with the same --out/);

    const again = await spawnCli(generate, { env: env() });
    expect(again.stderr).not.toMatch(/^error/m);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/generate: dataset\.jsonl.* no longer match.* redoing it\. Teacher calls already made come from the cache/);
    expect(await jsonlRows(dataset)).toHaveLength(20);
    expect(await readFile(dataset, 'utf8')).toBe(whole);
    // Every answer came from the LLM cache.
    expect(server.stats.requests).toBe(paidRequests);

    const trained = await spawnCli(['train', '--data', out, '--base-model', 'acme/t5-small', '--no-export', '--json'], { env: env() });
    expect(trained.stderr).not.toMatch(/^error/m);
    expect(trained.code).toBe(0);
  }, 90_000);
});

describe('a finished run', () => {
  it('reruns with every step cached (evaluation rewriting the model card is no damage), and redoes training when its model folder goes', async () => {
    const out = join(dir, 'run');
    const args = ['run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--num-examples', '20', '--no-retrieve-datasets', '--base-model', 'acme/t5-small', '--no-preflight', '--no-export'];
    const first = await spawnCli(args, { env: env() });
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
    const again = await spawnCli(args, { env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/no longer match/);
    expect(again.stderr).not.toMatch(/▶ train/);
    // trained-model.json records paths relative to the run folder (a moved folder finds its own model).
    const model = JSON.parse(await readFile(join(out, 'trained-model.json'), 'utf8')) as { reference: string };
    const modelFolder = resolve(out, model.reference);
    await rm(modelFolder, { recursive: true });
    const repaired = await spawnCli(args, { env: env() });
    expect(repaired.code).toBe(0);
    expect(repaired.stderr).toMatch(/train: .* no longer match(es)? what this step wrote/);
    expect(repaired.stderr).toMatch(/▶ train/);
    // Trained again: the model folder is back.
    expect((await stat(modelFolder)).isDirectory()).toBe(true);
  }, 120_000);
});

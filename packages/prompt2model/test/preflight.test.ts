// Preflight checks everything a later stage needs before any paid call, and every bad input exits 2
// with one line (issue 19): from the CLI, in fresh processes, counting the teacher's chat requests.
import { createServer } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, startOpenAICompatibleServer, type HubServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';
import { SENTIMENT_PROMPT, sentimentTeacher } from './support/sentiment-teacher.js';

const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');

let dir: string;
let teacher: OpenAICompatibleServer;
let hub: HubServer;
let refusedUrl: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-preflight-'));
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  await writeFile(join(dir, 'cards.jsonl'), `${JSON.stringify({ id: 'acme/t5-small', card: '# t5 small for sentiment', sizeBytes: 240_000_000, downloads: 10 })}\n`);
  await mkdir(join(dir, 'corrupt-model'));
  await writeFile(join(dir, 'corrupt-model', 'config.json'), '{"model_type": "t5", "d_model": 5');
  await mkdir(join(dir, 'no-config-model'));
  await mkdir(join(dir, 'a-folder'));
  teacher = await startOpenAICompatibleServer({ respond: sentimentTeacher });
  hub = await startHubServer({ models: [{ id: 'acme/t5-small', card: '# t5', pipelineTag: 'text2text-generation', config: { model_type: 't5' } }] });
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  refusedUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((done) => probe.close(() => done()));
});
afterAll(async () => {
  await teacher.close();
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  OPENAI_BASE_URL: teacher.url,
  OPENAI_API_KEY: 'test-key',
  HF_ENDPOINT: hub.url,
  P2M_CACHE_DIR: join(dir, 'cache'),
  P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]),
  ...extra,
});
const run = (out: string, ...extra: string[]) => ['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, out), '--num-examples', '20', '--no-retrieve-datasets', ...extra];

/** Exit 2, one `error:` line, no stack, and not one chat request reached the teacher. */
async function expectRefusedBeforeSpending(argv: string[], message: RegExp, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const before = teacher.stats.requests;
  const result = await spawnCli(argv, { env: env(extraEnv), timeoutMs: 40_000 });
  expect(result.stderr).toMatch(message);
  expect(result.code).toBe(2);
  expect(result.stderr.match(/^error: /gm)).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(teacher.stats.requests).toBe(before);
  return result.stderr;
}

describe('run: preflight covers every later stage', () => {
  it('an unreachable Hub (no --index) fails before any paid call, naming the Hub and the offline flags', async () => {
    const stderr = await expectRefusedBeforeSpending(run('no-hub'), /Hugging Face Hub \(for model retrieval\): Could not connect to the Hugging Face Hub at http:\/\/127\.0\.0\.1:\d+: the connection was refused/, { HF_ENDPOINT: refusedUrl });
    expect(stderr).toMatch(/--index FILE/);
  }, 45_000);

  it('--index stands in for the Hub: an unreachable Hub is then no problem for preflight', async () => {
    const result = await spawnCli(run('index-offline', '--index', join(dir, 'cards.jsonl'), '--no-train'), { env: env({ HF_ENDPOINT: refusedUrl }), timeoutMs: 40_000 });
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
  }, 45_000);

  it('a missing local base-model folder fails before any paid call', async () => {
    await expectRefusedBeforeSpending(run('missing-base', '--base-model', './no-such-model-folder'), /base model \.\/no-such-model-folder: the local model folder .*no-such-model-folder does not exist/);
  }, 45_000);

  it('a corrupt config.json fails before any paid call', async () => {
    await expectRefusedBeforeSpending(run('corrupt-base', '--base-model', join(dir, 'corrupt-model')), /config\.json is not valid JSON/);
  }, 45_000);

  it('a folder without config.json fails before any paid call', async () => {
    await expectRefusedBeforeSpending(run('no-config-base', '--base-model', join(dir, 'no-config-model')), /holds no config\.json: it is not a model folder/);
  }, 45_000);

  it('an unknown Hub id fails before any paid call', async () => {
    await expectRefusedBeforeSpending(run('unknown-base', '--base-model', 'acme/no-such-model'), /There is no model "acme\/no-such-model" on the Hugging Face Hub/);
  }, 45_000);

  it('a malformed Hub id fails before any request at all', async () => {
    await expectRefusedBeforeSpending(run('bad-id', '--base-model', 'acme/t5/small'), /"acme\/t5\/small" is not a Hugging Face model id/);
  }, 45_000);

  it('a known Hub id passes preflight, and the run trains', async () => {
    const result = await spawnCli([...run('known-base', '--base-model', 'acme/t5-small'), '--no-evaluate'], { env: env(), timeoutMs: 50_000 });
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
    expect(hub.requests.some((path) => path.startsWith('/api/models/acme/t5-small'))).toBe(true);
  }, 55_000);
});

describe('bad input exits 2 with one line', () => {
  it('--num-examples beyond 10,000 needs --max-cost', async () => {
    await expectRefusedBeforeSpending(run('huge', '--num-examples', '50000'), /--num-examples 50000 is more than 10,000 without a budget cap/);
    await expectRefusedBeforeSpending(['generate', '--prompt', join(dir, 'prompt.txt'), '-n', '20000', '--out', join(dir, 'huge-gen')], /--num-examples 20000 is more than 10,000/);
  }, 45_000);

  it('demo --port 70000', async () => {
    await expectRefusedBeforeSpending(['demo', '--out', join(dir, 'nothing'), '--port', '70000'], /--port must be an integer from 0 to 65535, got "70000"/);
  }, 45_000);

  it('index build onto a folder, before the Hub is asked', async () => {
    const requests = hub.requests.length;
    await expectRefusedBeforeSpending(['index', 'build', join(dir, 'a-folder')], /the index file .*a-folder is a folder, not a file/);
    expect(hub.requests.length).toBe(requests);
  }, 45_000);
});

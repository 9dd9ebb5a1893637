import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonlAll } from '@prompt2model/core/internal';
import { startHubServer, startOpenAICompatibleServer, type HubModelRow, type HubServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { runCliCaptured } from './support/run-cli.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

// Building the 11,320-card index takes ~3 s alone, but far longer while CI runs every package's
// tests and the real training stack at once on two cores.
const INDEX_BUILD_TIMEOUT_MS = 180_000;

const snapshot = fixturePath('hub/models.jsonl');

let dir: string;
let indexPath: string;
let teacher: OpenAICompatibleServer;
let hub: HubServer;

const run = runCliCaptured;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-models-'));
  indexPath = join(dir, 'models-index.json');
  teacher = await startOpenAICompatibleServer({
    respond: () =>
      '# bart-large-cnn-news-summarizer\nA BART model fine-tuned for abstractive summarization of news articles (CNN/DailyMail). Task: summarization. Language: English.',
  });
  const rows = (await readJsonlAll<HubModelRow>(snapshot)).sort((a, b) => (b.downloads ?? 0) - (a.downloads ?? 0)).slice(0, 80);
  hub = await startHubServer({ models: rows, pageSize: 30 });
}, INDEX_BUILD_TIMEOUT_MS);
afterAll(async () => {
  await teacher.close();
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('prompt2model index build / models search', () => {
  it('builds an index from the JSON Lines snapshot and searches it offline', async () => {
    const built = await run(['index', 'build', indexPath, '--from', snapshot, '--json']);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ file: indexPath, format: 'index', models: 11_320 });

    const { code, stdout, stderr } = await run(['models', 'search', 'English-to-German translation', '--index', indexPath, '--top-k', '3', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const candidates = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(candidates).toHaveLength(3);
    for (const candidate of candidates) {
      expect(Object.keys(candidate)).toEqual(expect.arrayContaining(['id', 'score', 'sizeBytes', 'downloads', 'architecture']));
      expect(candidate.sizeBytes as number).toBeLessThanOrEqual(3e9);
    }
    expect((candidates[0]!.score as number) >= (candidates[1]!.score as number)).toBe(true);
  }, INDEX_BUILD_TIMEOUT_MS);

  it('prints a readable table, and applies --max-size, --gpu-memory, --architecture and --license', async () => {
    const table = await run(['models', 'search', 'Summarize news articles', '--index', indexPath]);
    expect(table.stderr).not.toMatch(/error/);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^#\s+model\s+score\s+size\s+downloads\s+architecture\s+LoRA memory/);
    expect(table.stdout.trim().split('\n').filter((line) => /^\d+\s+\S+\s+\d+\.\d\d\s/.test(line))).toHaveLength(5);
    expect(table.stdout).toMatch(/matched; removed \d+ larger than 3\.0 GB/);

    const limited = await run(['models', 'search', 'instruction tuned flan t5', '--index', indexPath, '--max-size', 'none', '--gpu-memory', '10GB', '--method', 'full', '--top-k', '10', '--json']);
    expect(limited.stderr).not.toMatch(/error/);
    expect(limited.code).toBe(0);
    for (const candidate of JSON.parse(limited.stdout) as Array<{ estimatedMemory: { fullBytes: number } }>) {
      expect(candidate.estimatedMemory.fullBytes).toBeLessThanOrEqual(10e9);
    }
    const mit = await run(['models', 'search', 'summarization', '--index', indexPath, '--license', 'mit', '--architecture', 'encoder-decoder', '--json']);
    for (const candidate of JSON.parse(mit.stdout) as Array<{ license: string; architecture: string }>) {
      expect(candidate).toMatchObject({ license: 'mit', architecture: 'encoder-decoder' });
    }
  });

  it('searches with a HyDE card from the teacher (--hyde, loopback OpenAI-compatible server)', async () => {
    const out = join(dir, 'run-hyde');
    const { code, stdout, stderr } = await run(
      ['--base-url', teacher.url, '--teacher', 'test-model', '--out', out, 'models', 'search', 'Make news shorter', '--index', indexPath, '--hyde', '--json'],
      { OPENAI_API_KEY: 'test-key' },
    );
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(teacher.stats.completed).toBe(1);
    const candidates = JSON.parse(stdout) as Array<{ id: string }>;
    expect(candidates).toHaveLength(5);
    for (const candidate of candidates) expect(candidate.id).toMatch(/summar|news|cnn|bart|xsum|pegasus|tldr/i);
  });

  it('snapshots a (loopback) Hub with `index build`, then searches the snapshot and the live Hub', async () => {
    const snapshotIndex = join(dir, 'hub-index.json');
    const cards = join(dir, 'hub-cards.jsonl');
    const cache = join(dir, 'hub-cache');
    const built = await run(['index', 'build', snapshotIndex, '--hub-url', hub.url, '--hub-cache', cache, '--task', 'text2text-generation', '--limit', '50', '--jsonl', cards, '--json']);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ models: 50, source: hub.url, jsonl: cards });
    expect((await readFile(cards, 'utf8')).trim().split('\n')).toHaveLength(50);

    const offline = await run(['models', 'search', 'summarization', '--index', snapshotIndex, '--top-k', '2', '--json']);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toHaveLength(2);

    // Without --index: the live Hub, served from the cache the build just filled.
    hub.reset();
    const live = await run(['models', 'search', 'summarization', '--hub-url', hub.url, '--hub-cache', cache, '--task', 'text2text-generation', '--limit', '50', '--top-k', '2', '--json']);
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout)).toEqual(JSON.parse(offline.stdout));
    expect(hub.stats.requests).toBe(0);
  });

  it('reports bad input and impossible filters with a hint and a non-zero exit code', async () => {
    const badSize = await run(['models', 'search', 'summarization', '--index', indexPath, '--max-size', 'huge']);
    expect(badSize.code).toBe(2);
    expect(badSize.stderr).toMatch(/Not a size/);

    const nothing = await run(['models', 'search', 'summarization', '--index', indexPath, '--max-size', '100B']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/No base model passed the filters/);
    expect(nothing.stderr).toMatch(/hint: .*--max-size/);

    const missing = await run(['models', 'search', 'summarization', '--index', join(dir, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/hint: .*index build/);
  });

  it('searches an index saved by an earlier version (JSON) and refuses a file that is no index, saying to rebuild', async () => {
    const { ModelIndex } = await import('@prompt2model/model-retriever/internal');
    const cards = (await readFile(resolve(import.meta.dirname, '../../../examples/offline/cards.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    const index = await ModelIndex.fromCards(cards);
    const legacy = join(dir, 'legacy-index.json');
    await writeFile(legacy, JSON.stringify(index.toJSON()));
    const found = await run(['models', 'search', 'German translation', '--index', legacy, '--top-k', '1', '--json']);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)[0].id).toBe(index.search('German translation', { topK: 1 })[0]!.id);

    const notIndex = join(dir, 'notes.txt');
    await writeFile(notIndex, 'just some notes');
    const refused = await run(['models', 'search', 'summarization', '--index', notIndex]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not a saved model index/);
    expect(refused.stderr).toMatch(/hint: .*index build/);
  });
});

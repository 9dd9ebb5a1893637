import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APICallError, ProgressEmitter, RequestScheduler, readJsonlAll, type ProgressEvent } from '@prompt2model/core';
import { startHubServer, type HubModelRow, type HubServer } from '@prompt2model/testing';
import { ModelIndex, buildIndexFromHub, fetchHubModelCards, writeModelCardsJsonl } from '../src/index.js';
import { fixturePath } from '@prompt2model/testing/fixtures';

const snapshot = fixturePath('hub/models.jsonl');

let rows: HubModelRow[];
let dir: string;
const servers: HubServer[] = [];

// Fast retries: the scheduler's backoff is core's, only shortened for the test.
const quickScheduler = (maxRetries = 4) => new RequestScheduler({ maxConcurrency: 8, initialBackoffMs: 1, maxBackoffMs: 5, maxRetries });

async function hub(options: Partial<Parameters<typeof startHubServer>[0]> = {}): Promise<HubServer> {
  const server = await startHubServer({ models: rows, pageSize: 40, ...options });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-test-'));
  const real = await readJsonlAll<HubModelRow>(snapshot);
  // The 120 most downloaded real cards, plus rows that exercise what the snapshot lacks.
  rows = real.sort((a, b) => (b.downloads ?? 0) - (a.downloads ?? 0)).slice(0, 120);
  rows.push(
    {
      id: 'acme/tiny-chat',
      card: '---\nlicense: mit\n---\n# Tiny chat\nA small chat model for dialogue.',
      downloads: 50,
      pipelineTag: 'text-generation',
      config: { architectures: ['LlamaForCausalLM'], model_type: 'llama' },
      safetensors: { BF16: 1_100_000_000 },
    },
    { id: 'acme/no-readme', downloads: 1, sizeBytes: 5e8 },
  );
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Hub snapshots through @huggingface/hub against a loopback Hub', () => {
  it('lists by task with pagination, downloads cards, sizes and metadata', async () => {
    const server = await hub();
    const records = await fetchHubModelCards({ hubUrl: server.url, cacheDir: false, tasks: ['text2text-generation', 'text-generation'], limitPerTask: 100, scheduler: quickScheduler() });
    // 100 seq2seq models (3 pages of 40) plus the one text-generation model.
    expect(records).toHaveLength(101);
    expect(server.stats.listRequests).toBe(4);
    const t5 = records.find((record) => record.id === 't5-base')!;
    expect(t5.card).toBe(rows.find((row) => row.id === 't5-base')!.card);
    expect(t5).toMatchObject({ downloads: 3620034, architecture: 'encoder-decoder', license: 'apache-2.0' });
    // The loopback Hub reports F32 parameter counts (size / 4); bytes come back from dtype sizes.
    expect(Math.abs(t5.sizeBytes! - rows.find((row) => row.id === 't5-base')!.sizeBytes!)).toBeLessThanOrEqual(4);
    expect(t5.parameters).toBe(Math.round(rows.find((row) => row.id === 't5-base')!.sizeBytes! / 4));
    const chat = records.find((record) => record.id === 'acme/tiny-chat')!;
    expect(chat).toMatchObject({ architecture: 'decoder-only', parameters: 1_100_000_000, sizeBytes: 2_200_000_000, license: 'mit', pipelineTag: 'text-generation' });
    // Most downloaded first, as asked with sort=downloads.
    expect(server.requests[0]).toMatch(/sort=downloads/);
    expect(server.requests[0]).toMatch(/pipeline_tag=text2text-generation/);
  });

  it('reads the size from the file tree when the Hub has no safetensors metadata, and tolerates a missing README', async () => {
    const server = await hub({ safetensors: false });
    const records = await fetchHubModelCards({ hubUrl: server.url, cacheDir: false, tasks: ['text2text-generation'], limitPerTask: 500, scheduler: quickScheduler() });
    expect(server.stats.treeRequests).toBe(records.length);
    const t5 = records.find((record) => record.id === 't5-small')!;
    expect(t5.sizeBytes).toBe(242065649);
    expect(t5.parameters).toBeUndefined();
    expect(records.find((record) => record.id === 'acme/no-readme')).toMatchObject({ card: '', sizeBytes: 5e8 });
  });

  it('caches listings and cards on disk, and refetches only what changed', async () => {
    const cacheDir = join(dir, 'cache');
    const server = await hub();
    const options = { hubUrl: server.url, cacheDir, tasks: ['text2text-generation'], limitPerTask: 60, scheduler: quickScheduler() };
    const first = await fetchHubModelCards(options);
    expect(server.stats.readmeRequests).toBeGreaterThanOrEqual(60);

    server.reset();
    const second = await fetchHubModelCards(options);
    expect(second).toEqual(first);
    expect(server.stats.requests).toBe(0);

    // A stale listing is fetched again; only the model whose lastModified moved is downloaded.
    const changed = rows.find((row) => row.id === first[0]!.id)!;
    changed.lastModified = '2024-01-01T00:00:00.000Z';
    server.reset();
    const third = await fetchHubModelCards({ ...options, listingMaxAgeMs: 0 });
    expect(third).toHaveLength(60);
    expect(server.stats.listRequests).toBe(2);
    expect(server.requests.filter((path) => path.includes('/resolve/'))).toEqual([
      `/${changed.id}/resolve/main/README.md`,
      `/${changed.id}/resolve/main/README.md`,
    ]);
  });

  it('falls back to the cached listing when the Hub is unreachable', async () => {
    const cacheDir = join(dir, 'offline-cache');
    const server = await hub();
    const options = { cacheDir, tasks: ['text2text-generation'], limitPerTask: 10 };
    const online = await fetchHubModelCards({ ...options, hubUrl: server.url, scheduler: quickScheduler() });
    const url = server.url;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const events = new ProgressEmitter();
    const logged: ProgressEvent[] = [];
    events.on((event) => logged.push(event));
    const offline = await fetchHubModelCards({ ...options, hubUrl: url, listingMaxAgeMs: 0, events, scheduler: quickScheduler(1) });
    expect(offline).toEqual(online);
    expect(logged.some((event) => event.type === 'log' && event.level === 'warn' && /cached/.test(event.message))).toBe(true);
  });

  it('retries 429 and 5xx answers through the core scheduler', async () => {
    const server = await hub({ faultSequence: [429, 'ok', 500, 503] });
    const records = await fetchHubModelCards({ hubUrl: server.url, cacheDir: false, tasks: ['text2text-generation'], limitPerTask: 20, scheduler: quickScheduler() });
    expect(records).toHaveLength(20);
    expect(server.stats.faults).toBe(3);
    expect(records.every((record) => record.card.length > 0 || record.id === 'acme/no-readme')).toBe(true);
  });

  it('abandons an attempt that hangs and retries it (per-attempt timeout of the scheduler)', async () => {
    const server = await hub({ faultSequence: ['slow'], slowMs: 20_000 });
    const scheduler = new RequestScheduler({ maxConcurrency: 4, initialBackoffMs: 1, maxBackoffMs: 5, timeoutMs: 300 });
    const records = await fetchHubModelCards({ hubUrl: server.url, cacheDir: false, tasks: ['text2text-generation'], limitPerTask: 3, scheduler });
    expect(records).toHaveLength(3);
    expect(scheduler.stats.retries).toBe(1);
    // The hung listing request was abandoned (the client closed it) and sent again.
    expect(server.stats.faults).toBe(1);
    expect(server.requests.filter((path) => path.startsWith('/api/models?'))).toHaveLength(2);
  });

  it('sends the access token, and explains a 401', async () => {
    const server = await hub({ accessToken: 'hf_secret_token' });
    const records = await fetchHubModelCards({ hubUrl: server.url, accessToken: 'hf_secret_token', cacheDir: false, tasks: ['text2text-generation'], limitPerTask: 5, scheduler: quickScheduler() });
    expect(records).toHaveLength(5);
    const error = await fetchHubModelCards({ hubUrl: server.url, accessToken: 'hf_wrong', cacheDir: false, tasks: ['text2text-generation'], limitPerTask: 5, scheduler: quickScheduler() }).catch((caught) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error.statusCode).toBe(401);
    expect(error.isRetryable).toBe(false);
    expect(error.hint).toMatch(/HF_TOKEN/);
  });

  it('builds a searchable index, and a JSON Lines snapshot that works offline', async () => {
    const server = await hub();
    const options = { hubUrl: server.url, cacheDir: false as const, tasks: ['text2text-generation', 'text-generation'], limitPerTask: 200, scheduler: quickScheduler() };
    const index = await buildIndexFromHub(options);
    const records = await fetchHubModelCards(options);
    // Cards whose pipeline_tag is summarization or translation are not listed under these two tasks.
    expect(index.size).toBe(records.length);
    expect(index.size).toBeGreaterThan(100);
    expect(index.source).toBe(server.url);
    expect(index.search('summarization of news', { topK: 3 }).length).toBe(3);
    expect(index.search('dialogue chat', { architectures: ['decoder-only'] }).map((candidate) => candidate.id)).toEqual(['acme/tiny-chat']);

    const path = join(dir, 'snapshot.jsonl');
    expect(await writeModelCardsJsonl(path, records)).toBe(records.length);
    const first = JSON.parse((await readFile(path, 'utf8')).split('\n')[0]!);
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['id', 'card', 'sizeBytes', 'downloads']));
    const offline = await ModelIndex.open(path);
    expect(offline.search('summarization of news', { topK: 3 })).toEqual(index.search('summarization of news', { topK: 3 }));
  });
});

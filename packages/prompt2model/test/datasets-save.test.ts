import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDatasetsServer, type DatasetsServer } from '@prompt2model/testing';
import { spawnCli } from './support/spawn-cli.js';

// 6,000 rows in 60 row groups, each parquet response 40 ms late, for the complete load; 150,000 rows
// for the interrupted ones, so the row phase lasts seconds however fast the machine (the file is
// downloaded once, with the preview, so the row phase itself is decoding and writing).
const rows = Array.from({ length: 6000 }, (_, i) => ({ question: `Question ${i}?`, answer: `Answer ${i}` }));
const manyRows = Array.from({ length: 150_000 }, (_, i) => ({ question: `Question ${i}?`, answer: `Answer ${i}` }));
const features = { question: { dtype: 'string', _type: 'Value' }, answer: { dtype: 'string', _type: 'Value' } };
let dir: string;
let hub: DatasetsServer;
const OLD = '{"input":"old","output":"content"}\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-save-'));
  hub = await startDatasetsServer({
    datasets: [
      { id: 'acme/qa', description: 'Questions and answers.', configs: [{ name: 'default', features, splits: { train: rows } }] },
      { id: 'acme/many', description: 'Many questions and answers.', configs: [{ name: 'default', features, splits: { train: manyRows } }] },
    ],
    rowsPerShard: 150_000,
    rowGroupSize: 100,
    parquetDelayMs: 40,
  });
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ HF_ENDPOINT: hub.url, HF_DATASET_VIEWER_URL: hub.url, P2M_CACHE_DIR: join(dir, 'cache') });
const load = (file: string, dataset = 'acme/qa', maxRows = 6000) => ['datasets', 'load', dataset, '--input', 'question', '--output', 'answer', '--max-rows', String(maxRows), '--save', file, '--no-hub-cache'];
const loadMany = (file: string) => load(file, 'acme/many', 150_000);

describe('prompt2model datasets load --save FILE', () => {
  it('is atomic under kill -9: FILE keeps its old content and no temporary file is mistaken for it', async () => {
    const file = join(dir, 'killed.jsonl');
    await writeFile(file, OLD);
    const result = await spawnCli(loadMany(file), { env: env(), interruptWhen: /Retrieving acme\/many/, interruptDelayMs: 600, interruptSignal: 'SIGKILL', timeoutMs: 60_000 });
    expect(result.signal).toBe('SIGKILL');
    expect(await readFile(file, 'utf8')).toBe(OLD);
    // The kill came mid-write: the rows written so far are in the temporary file beside FILE.
    const partial = (await readdir(dir)).filter((name) => name.startsWith('killed.jsonl.') && name.endsWith('.tmp'));
    expect(partial).toHaveLength(1);
    const written = (await readFile(join(dir, partial[0]!), 'utf8')).split('\n').filter(Boolean).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(150_000);
  }, 90_000);

  it('honours Ctrl-C within two seconds in the row phase: exit 130, FILE untouched, the temporary file removed', async () => {
    const file = join(dir, 'interrupted.jsonl');
    await writeFile(file, OLD);
    const result = await spawnCli(loadMany(file), { env: env(), interruptWhen: /Retrieving acme\/many/, interruptDelayMs: 600, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(130);
    expect(result.msAfterInterrupt!).toBeLessThan(2000);
    expect(await readFile(file, 'utf8')).toBe(OLD);
    expect((await readdir(dir)).filter((name) => name.startsWith('interrupted.jsonl.'))).toEqual([]);
  }, 90_000);

  it('replaces FILE with every row when the load completes', async () => {
    const file = join(dir, 'complete.jsonl');
    await writeFile(file, OLD);
    const result = await spawnCli(load(file), { env: env(), timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(6000);
    expect(JSON.parse(lines[0]!)).toMatchObject({ input: 'Question 0?', output: 'Answer 0' });
  }, 90_000);
});

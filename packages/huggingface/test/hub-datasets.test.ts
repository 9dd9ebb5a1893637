import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestScheduler } from '@prompt2model/core/internal';
import { startDatasetsServer, type DatasetFixture, type DatasetsServer } from '@prompt2model/testing';
import {
  DatasetNotFoundError,
  GatedDatasetError,
  getDatasetConfigInfo,
  getDatasetRevision,
  getDatasetRows,
  getDatasetSize,
  getDatasetSplits,
  listDatasetParquetFiles,
  listHubDatasets,
  readParquetRows,
} from '../src/index.js';

const squadRows = Array.from({ length: 450 }, (_, i) => ({
  id: `q${i}`,
  // Incompressible passages, so a shard is larger than the reader's 64 KB footer probe.
  context: `Passage ${i}: ${Array.from({ length: 24 }, (_, k) => createHash('sha256').update(`${i}/${k}`).digest('base64')).join(' ')}`,
  question: `What is topic of passage ${i}?`,
  answers: { text: [`topic ${i % 7}`], answer_start: [20] },
}));
const fixtures: DatasetFixture[] = [
  {
    id: 'squad',
    description: 'Stanford Question Answering Dataset (SQuAD) is a reading comprehension dataset.',
    downloads: 5000,
    evaluationMetadata: [{ config: 'plain_text', task: 'question-answering', col_mapping: { question: 'question', context: 'context', answers: { text: 'text' } } }],
    configs: [
      {
        name: 'plain_text',
        features: {
          id: { dtype: 'string', _type: 'Value' },
          context: { dtype: 'string', _type: 'Value' },
          question: { dtype: 'string', _type: 'Value' },
          answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
        },
        splits: { train: squadRows.slice(0, 400), validation: squadRows.slice(400) },
      },
    ],
  },
  {
    id: 'org/no-parquet',
    description: 'Sentiment of tweets.',
    downloads: 10,
    configs: [{ name: 'default', parquet: false, features: { text: { dtype: 'string', _type: 'Value' }, label: { names: ['neg', 'pos'], _type: 'ClassLabel' } }, splits: { train: Array.from({ length: 150 }, (_, i) => ({ text: `tweet ${i}`, label: i % 2 })) } }],
  },
  { id: 'org/gated', description: 'Medical notes.', gated: 'auto', configs: [{ name: 'default', features: { text: { dtype: 'string', _type: 'Value' } }, splits: { train: [{ text: 'a' }] } }] },
];

const scheduler = () => new RequestScheduler({ maxRetries: 3, initialBackoffMs: 1, maxBackoffMs: 5 });
let server: DatasetsServer;
const at = () => ({ hubUrl: server.url, datasetViewerUrl: server.url, scheduler: scheduler(), accessToken: '' });

beforeAll(async () => {
  server = await startDatasetsServer({ datasets: fixtures, rowsPerShard: 250, rowGroupSize: 50, grantedTokens: ['test-granted-token'] });
});
afterAll(() => server.close());

describe('Hub dataset listing through @huggingface/hub', () => {
  it('lists datasets with description, card evaluation metadata and gating, paging through Link headers', async () => {
    const records = await listHubDatasets({ ...at(), limit: 10 });
    expect(records.map((record) => record.id)).toEqual(['squad', 'org/no-parquet', 'org/gated']);
    expect(records[0]!.description).toMatch(/reading comprehension/);
    expect(records[0]!.evaluationMetadata).toEqual(fixtures[0]!.evaluationMetadata);
    expect(records[2]!.gated).toBe('auto');
    expect(server.requests[0]).toContain('expand=description');
  });
});

describe('dataset viewer API', () => {
  it('reads splits, features, sizes and the parquet file list', async () => {
    expect(await getDatasetSplits('squad', at())).toEqual([
      { dataset: 'squad', config: 'plain_text', split: 'train' },
      { dataset: 'squad', config: 'plain_text', split: 'validation' },
    ]);
    const info = await getDatasetConfigInfo('squad', 'plain_text', at());
    expect(Object.keys(info.features)).toEqual(['id', 'context', 'question', 'answers']);
    expect(info.splits?.train?.num_examples).toBe(400);
    const size = await getDatasetSize('squad', at());
    expect(size.dataset.num_rows).toBe(450);
    const files = await listDatasetParquetFiles('squad', { config: 'plain_text', split: 'train' }, at());
    expect(files.map((file) => file.filename)).toEqual(['0000.parquet', '0001.parquet']);
  });

  it('reads only the needed columns and rows of a parquet shard over range requests', async () => {
    const [file] = await listDatasetParquetFiles('squad', { config: 'plain_text', split: 'train' }, at());
    server.reset();
    const { rows, numRows, bytesFetched } = await readParquetRows({ dataset: 'squad', url: file!.url, size: file!.size, columns: ['question', 'answers'], rowStart: 0, rowEnd: 60 }, at());
    expect(numRows).toBe(250);
    expect(rows).toHaveLength(60);
    expect(rows[3]).toEqual({ question: 'What is topic of passage 3?', answers: { text: ['topic 3'], answer_start: [20] } });
    expect(server.stats.rangeRequests).toBeGreaterThan(0);
    expect(server.stats.byStatus[200] ?? 0).toBe(0);
    // Footer plus two row groups of two columns: far less than the file (the context column is skipped).
    expect(bytesFetched).toBeLessThan(file!.size / 2);
  });

  it('pages /rows where no parquet conversion exists', async () => {
    await expect(listDatasetParquetFiles('org/no-parquet', {}, at())).rejects.toMatchObject({ statusCode: 501 });
    const page = await getDatasetRows({ dataset: 'org/no-parquet', config: 'default', split: 'train', offset: 100, length: 500 }, at());
    expect(page.rows).toHaveLength(50);
    expect(page.rows[0]).toMatchObject({ row_idx: 100, row: { text: 'tweet 100', label: 0 } });
    expect(page.num_rows_total).toBe(150);
    expect(page.features.find((feature) => feature.name === 'label')?.type).toEqual({ names: ['neg', 'pos'], _type: 'ClassLabel' });
  });

  it('names the page to accept the terms of a gated dataset, with and without a token', async () => {
    const error = await getDatasetSplits('org/gated', at()).catch((e: unknown) => e);
    expect(GatedDatasetError.isInstance(error)).toBe(true);
    expect((error as GatedDatasetError).hint).toContain(`${server.url}/datasets/org/gated`);
    expect((error as GatedDatasetError).hint).toContain('HF_TOKEN');
    const withToken = await getDatasetSplits('org/gated', { ...at(), accessToken: 'other-token' }).catch((e: unknown) => e);
    expect(GatedDatasetError.isInstance(withToken) && withToken.hadToken).toBe(true);
    expect(await getDatasetSplits('org/gated', { ...at(), accessToken: 'test-granted-token' })).toHaveLength(1);
  });

  it('retries ResponseNotReady (500) and 429, and gives up on a missing dataset at once', async () => {
    await server.close();
    server = await startDatasetsServer({ datasets: fixtures, faultSequence: ['not-ready', 429, 'ok'] });
    expect(await getDatasetSplits('squad', at())).toHaveLength(2);
    expect(server.stats.faults).toBe(2);
    const before = server.stats.requests;
    const missing = await getDatasetSplits('nope', at()).catch((e: unknown) => e);
    // As the real viewer: an unknown id reads like a gated one ("does not exist, or is not accessible").
    expect(GatedDatasetError.isInstance(missing)).toBe(true);
    expect(server.stats.requests - before).toBe(1);
    // The Hub's own repo lookup tells them apart.
    const lookup = await getDatasetRevision('nope', { hubUrl: server.url, accessToken: '', scheduler: scheduler() }).catch((e: unknown) => e);
    expect(DatasetNotFoundError.isInstance(lookup)).toBe(true);
    expect((lookup as Error).message).toMatch(/nope was not found on the Hub/);
  });
});

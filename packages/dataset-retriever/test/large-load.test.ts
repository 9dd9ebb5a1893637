import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestScheduler } from '@prompt2model/core/internal';
import { startDatasetsServer, type DatasetsServer } from '@prompt2model/testing';
import { streamDatasetRows } from '../src/internal.js';

// 140,000 rows in two shards: past the 130,000 where a spread of all rows into one push overflowed the stack.
const ROWS = 140_000;
let server: DatasetsServer;
beforeAll(async () => {
  const rows = Array.from({ length: ROWS }, (_, i) => ({ question: `q${i}`, answer: `a${i}` }));
  server = await startDatasetsServer({
    datasets: [{ id: 'big/qa', configs: [{ name: 'default', features: { question: { dtype: 'string', _type: 'Value' }, answer: { dtype: 'string', _type: 'Value' } }, splits: { train: rows } }] }],
    rowsPerShard: 70_000,
    rowGroupSize: 10_000,
  });
}, 120_000);
afterAll(() => server.close());

describe('a load of any size', () => {
  it('streams 140,000 rows from two shards in bounded batches, every row once, in split order', async () => {
    let count = 0;
    let largestBatch = 0;
    let previous = -1;
    let ordered = true;
    const summary = await streamDatasetRows(
      { dataset: 'big/qa', config: 'default', split: 'train', maxRows: ROWS },
      { hubUrl: server.url, datasetViewerUrl: server.url, accessToken: '', cacheDir: false, scheduler: new RequestScheduler({ maxRetries: 2 }) },
      (batch) => {
        count += batch.rows.length;
        largestBatch = Math.max(largestBatch, batch.rows.length);
        for (const index of batch.indices) {
          if (index !== previous + 1) ordered = false;
          previous = index;
        }
      },
    );
    expect(summary).toMatchObject({ rows: ROWS, totalRows: ROWS, via: 'parquet' });
    expect(count).toBe(ROWS);
    expect(ordered).toBe(true);
    expect(largestBatch).toBeLessThanOrEqual(1000);
  }, 120_000);
});

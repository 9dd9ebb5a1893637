import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressEmitter, RequestScheduler } from '@prompt2model/core';
import { startDatasetsServer, type DatasetFixture, type DatasetsServer } from '@prompt2model/testing';
import { loadDatasetRows } from '../src/index.js';

// Parquet written by pyarrow (not by this project) in every codec, read through the real client
// over the loopback viewer. pyarrow comes from the managed Python environment (P2M_PYTHON, the one
// `prompt2model setup` builds); where no Python stack exists at all the suite is skipped, loudly.
const python = process.env.P2M_PYTHON ?? 'python3';
const probe = spawnSync(python, ['-c', 'import pyarrow'], { encoding: 'utf8' });
const hasPyarrow = probe.status === 0;
const required = process.env.P2M_REQUIRE_REAL_STACK === '1';
const WRITER = resolve(import.meta.dirname, 'python/write_codec_parquet.py');
const CODECS = ['NONE', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4'] as const;

if (!hasPyarrow) {
  const why = `pyarrow does not import with ${python}${probe.error ? ` (${probe.error.message})` : ''}`;
  if (required) {
    describe('parquet interop needs pyarrow', () => {
      it('imports pyarrow from P2M_PYTHON', () => {
        throw new Error(`P2M_REQUIRE_REAL_STACK=1 but ${why}; install it into that environment (pip install pyarrow).`);
      });
    });
  } else {
    console.warn(`SKIPPED parquet interop tests: ${why}. Set P2M_PYTHON to a Python with pyarrow to run them.`);
  }
}

describe.runIf(hasPyarrow)('parquet written by pyarrow, read over the loopback viewer', () => {
  let dir: string;
  let server: DatasetsServer;
  let written: { files: Record<string, string>; codecs: Record<string, string>; rows: Array<Record<string, unknown>> };
  const at = () => ({ hubUrl: server.url, datasetViewerUrl: server.url, accessToken: '', cacheDir: false as const, scheduler: new RequestScheduler({ maxRetries: 2, initialBackoffMs: 1, maxBackoffMs: 5 }) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2m-parquet-interop-'));
    const result = spawnSync(python, [WRITER, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (result.status !== 0) throw new Error(`pyarrow writer failed: ${result.stderr}`);
    written = JSON.parse(result.stdout) as typeof written;
    const features = {
      id: { dtype: 'int64', _type: 'Value' },
      question: { dtype: 'string', _type: 'Value' },
      answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
      label: { dtype: 'int32', _type: 'Value' },
      created: { dtype: 'timestamp[us, tz=UTC]', _type: 'Value' },
      blob: { dtype: 'binary', _type: 'Value' },
      note: { dtype: 'string', _type: 'Value' },
    };
    const datasets: DatasetFixture[] = [];
    for (const codec of CODECS) {
      const bytes = await readFile(written.files[codec]!);
      datasets.push({ id: `pyarrow/${codec.toLowerCase()}`, configs: [{ name: 'default', features, splits: { train: written.rows }, parquetFiles: { train: [bytes] } }] });
    }
    // A shard whose column data is damaged: the loader falls back to the viewer's /rows.
    const damaged = Buffer.from(await readFile(written.files.GZIP!));
    for (let i = 200; i < 1200; i++) damaged[i] = (damaged[i]! * 31 + 7) & 0xff;
    datasets.push({ id: 'pyarrow/damaged', configs: [{ name: 'default', features, splits: { train: written.rows }, parquetFiles: { train: [damaged] } }] });
    server = await startDatasetsServer({ datasets });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('wrote each file with the codec it names', () => {
    expect(written.codecs).toEqual({ NONE: 'UNCOMPRESSED', SNAPPY: 'SNAPPY', GZIP: 'GZIP', BROTLI: 'BROTLI', ZSTD: 'ZSTD', LZ4: expect.stringMatching(/^LZ4/) });
  });

  it.each(CODECS)('reads %s parquet exactly as pyarrow does: int64 beyond 2^53, microsecond timestamps, binary, nested lists, nulls, unicode', async (codec) => {
    const loaded = await loadDatasetRows({ dataset: `pyarrow/${codec.toLowerCase()}`, config: 'default', split: 'train', maxRows: 1000 }, at());
    expect(loaded.via).toBe('parquet');
    expect(loaded.totalRows).toBe(300);
    expect(loaded.rows).toEqual(written.rows);
    expect(loaded.rows[1]!.id).toBe('9007199254740995');
    expect(loaded.rows[1]!.created).toBe('2021-03-04T05:06:07.123458Z');
  });

  it('falls back to the /rows API, with a warning, when a parquet file cannot be decoded', async () => {
    const events = new ProgressEmitter();
    const warnings: string[] = [];
    events.on((event) => {
      if (event.type === 'log' && event.level === 'warn') warnings.push(event.message);
    });
    const loaded = await loadDatasetRows({ dataset: 'pyarrow/damaged', config: 'default', split: 'train', maxRows: 150, order: 'head' }, { ...at(), events });
    expect(loaded.via).toBe('rows');
    expect(loaded.rows).toHaveLength(150);
    expect(loaded.rows[0]!.question).toBe(written.rows[0]!.question);
    expect(warnings.join('\n')).toMatch(/could not be decoded.*\/rows/);
  });
});

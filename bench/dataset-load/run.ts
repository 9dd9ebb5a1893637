/**
 * Loading 100,000 rows of a parquet split (SQuAD-shaped, written by pyarrow) from a loopback
 * dataset viewer: through the library (`streamDatasetRows`, every column, no cache) and through the
 * CLI (`prompt2model datasets load --save`, a fresh process: start-up, mapping, JSON Lines out),
 * against pyarrow in the same run (download over HTTP, `pq.read_table`, `to_pylist()`). Prints
 * rows per second and the ratio to pyarrow's. Target: at least 0.5.
 *
 *   npm run build && P2M_PYTHON=/path/to/venv/bin/python node --import tsx bench/dataset-load/run.ts [--rows 100000] [--codec snappy] [--runs 3] [--compare-cli OTHER/packages/prompt2model/bin/prompt2model.js]
 *
 * `--compare-cli` also times another build of the CLI (e.g. a checkout of the previous commit) in
 * the same runs, so a change is measured before and after under the same load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RequestScheduler } from '../../packages/core/src/index.js';
import { streamDatasetRows } from '../../packages/dataset-retriever/src/internal.js';
import { startDatasetsServer } from '../../packages/testing/src/index.js';

const args = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const rows = Number(value('--rows', '100000'));
const codec = value('--codec', 'snappy');
const runs = Number(value('--runs', '3'));
const compareCli = args.includes('--compare-cli') ? resolve(value('--compare-cli', '')) : undefined;
const python = process.env.P2M_PYTHON ?? 'python3';
const tool = resolve(import.meta.dirname, 'parquet_tool.py');
const cli = resolve(import.meta.dirname, '../../packages/prompt2model/bin/prompt2model.js');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const py = (argv: string[]) => {
  const result = spawnSync(python, [tool, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`pyarrow (${python}) failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
};

// The baseline runs while this process serves the file, so it must not block the event loop.
const pyAsync = (argv: string[]) =>
  new Promise<Record<string, number>>((resolvePromise, reject) => {
    const child = spawn(python, [tool, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolvePromise(JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>) : reject(new Error(`pyarrow failed: ${err}`))));
  });
const spawnAsync = (command: string, argv: string[], env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolvePromise) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });

const dir = await mkdtemp(join(tmpdir(), 'p2m-bench-load-'));
const file = join(dir, 'train.parquet');
py(['write', file, String(rows), codec]);
const bytes = await readFile(file);
const features = {
  id: { dtype: 'string', _type: 'Value' },
  title: { dtype: 'string', _type: 'Value' },
  context: { dtype: 'string', _type: 'Value' },
  question: { dtype: 'string', _type: 'Value' },
  answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
};
// `/rows` is never asked here; its rows are a placeholder of the right count.
const server = await startDatasetsServer({
  datasets: [{ id: 'bench/squad', configs: [{ name: 'plain_text', features, splits: { train: Array.from({ length: rows }, () => ({})) }, parquetFiles: { train: [bytes] } }] }],
});
const url = `${server.url}/datasets/bench/squad/resolve/${encodeURIComponent('refs/convert/parquet')}/plain_text/train/0000.parquet`;

const library: number[] = [];
const command: number[] = [];
const baseline: number[] = [];
const compared: number[] = [];
let peakRss = 0;
for (let run = 0; run < runs; run++) {
  const base = await pyAsync(['load', url]);
  if (base.rows !== rows) throw new Error(`pyarrow read ${base.rows} rows`);
  baseline.push(rows / base.seconds!);

  let count = 0;
  const started = performance.now();
  await streamDatasetRows(
    { dataset: 'bench/squad', config: 'plain_text', split: 'train', maxRows: rows },
    { hubUrl: server.url, datasetViewerUrl: server.url, accessToken: '', cacheDir: false, scheduler: new RequestScheduler({ maxRetries: 2 }) },
    (batch) => {
      count += batch.rows.length;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    },
  );
  if (count !== rows) throw new Error(`the library read ${count} rows`);
  library.push(rows / ((performance.now() - started) / 1000));

  const save = join(dir, 'out.jsonl');
  const timeCli = async (path: string) => {
    const cliStarted = performance.now();
    const result = await spawnAsync(process.execPath, [path, 'datasets', 'load', 'bench/squad', '--input', 'question,context', '--output', 'answers.text[0]', '--max-rows', String(rows), '--save', save, '--no-hub-cache', '--json'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HF_ENDPOINT: server.url,
      HF_DATASET_VIEWER_URL: server.url,
      P2M_CACHE_DIR: join(dir, 'cache'),
    });
    if (result.code !== 0) throw new Error(`the CLI (${path}) failed: ${result.stderr}`);
    const written = JSON.parse(result.stdout) as { count: number };
    if (written.count !== rows) throw new Error(`the CLI (${path}) wrote ${written.count} rows`);
    return rows / ((performance.now() - cliStarted) / 1000);
  };
  command.push(await timeCli(cli));
  if (compareCli) compared.push(await timeCli(compareCli));
}
await server.close();
await rm(dir, { recursive: true, force: true });

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`${rows.toLocaleString('en-US')} rows, ${codec}, ${(bytes.length / 1e6).toFixed(1)} MB parquet; median of ${runs} runs (rows/s)`);
console.log(`  pyarrow (download + read_table + to_pylist): ${fmt(median(baseline))}`);
console.log(`  library (streamDatasetRows):                 ${fmt(median(library))}  ratio ${(median(library) / median(baseline)).toFixed(2)}  peak RSS ${(peakRss / 1e6).toFixed(0)} MB`);
console.log(`  CLI (datasets load --save, fresh process):   ${fmt(median(command))}  ratio ${(median(command) / median(baseline)).toFixed(2)}`);
if (compareCli) console.log(`  CLI at --compare-cli (${compareCli}): ${fmt(median(compared))}  ratio ${(median(compared) / median(baseline)).toFixed(2)}`);

/**
 * `prompt2model datasets search "<task>" --index datasets.jsonl --json` end to end (a fresh CLI
 * process each run: start-up, indexing the 2,494-dataset snapshot, search, output), plus the
 * in-process split between building the index (uncached, and loaded from its cache) and one
 * query. Target: under 1 s a search.
 *
 *   npm run build && node --import tsx bench/dataset-search/run.ts [--runs 5] [--data ../shared/data/hub]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatasetIndex } from '../../packages/dataset-retriever/src/index.js';

const args = process.argv.slice(2);
const value = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const runs = Number(value('--runs', '5'));
const snapshot = resolve(value('--data', resolve(import.meta.dirname, '../../../shared/data/hub')), 'datasets.jsonl');
const cli = resolve(import.meta.dirname, '../../packages/prompt2model/bin/prompt2model.js');
const tasks = ['Answer questions about a passage', 'Translate German to English', 'Summarize news articles', 'Classify the sentiment of a movie review', 'Convert a question into an SQL query'];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const cacheDir = await mkdtemp(join(tmpdir(), 'p2m-dataset-index-'));
const build: number[] = [];
const cached: number[] = [];
const query: number[] = [];
for (let run = 0; run < runs; run++) {
  let started = performance.now();
  await DatasetIndex.fromJsonl(snapshot, { cacheDir: false });
  build.push(performance.now() - started);
  if (run === 0) await DatasetIndex.fromJsonl(snapshot, { cacheDir });
  started = performance.now();
  const index = await DatasetIndex.fromJsonl(snapshot, { cacheDir });
  cached.push(performance.now() - started);
  started = performance.now();
  for (const task of tasks) index.search(task, { topK: 5 });
  query.push((performance.now() - started) / tasks.length);
}

const wall: number[] = [];
const help: number[] = [];
for (let run = 0; run < runs; run++) {
  const task = tasks[run % tasks.length]!;
  let started = performance.now();
  const result = spawnSync(process.execPath, [cli, 'datasets', 'search', task, '--index', snapshot, '--json'], { encoding: 'utf8', env: { ...process.env, P2M_CACHE_DIR: cacheDir } });
  wall.push(performance.now() - started);
  if (result.status !== 0) throw new Error(`datasets search failed: ${result.stderr}`);
  started = performance.now();
  spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
  help.push(performance.now() - started);
}

console.log(`datasets search over ${snapshot} (${runs} runs, medians)`);
console.log(`  in process: build the index ${median(build).toFixed(0)} ms (load it from the cache: ${median(cached).toFixed(0)} ms), one query ${median(query).toFixed(2)} ms`);
console.log(`  CLI end to end (new process, cached index): ${median(wall).toFixed(0)} ms; of which CLI start-up (prompt2model --version) ${median(help).toFixed(0)} ms`);
await rm(cacheDir, { recursive: true, force: true });

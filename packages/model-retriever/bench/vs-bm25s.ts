/**
 * The model index against bm25s (Python, the fastest BM25 library we know), in one run, over the
 * 11,320 real model cards (../shared/data/hub/models.jsonl):
 *
 *   node --import tsx packages/model-retriever/bench/vs-bm25s.ts [--runs 3] [--warmup 1] [--python PATH] [--cards PATH] [--implementation DIR] [--baseline DIR] [--workers]
 *
 * Four figures for each side, each from a fresh process, runs interleaved, median of `--runs`:
 * - build: from the raw cards to a searchable index. Ours includes validating each record, card
 *   cleaning, architecture and license detection, tokenising, stemming and the BM25 weights;
 *   bm25s's is `bm25s.tokenize` (English stop words, PyStemmer) plus `BM25.index`.
 * - load: reading the saved index back (`ModelIndex.load` vs `bm25s.BM25.load`).
 * - query p50 / p99: 20 instructions × 10 rounds after `--warmup` rounds (default 1; numba compiles
 *   in the first, V8 optimises over the first ~100 queries in the background). Ours is the whole
 *   `ModelIndex.search` path (tokenising and stemming the query, BM25, the popularity scorer, the
 *   3 GB size filter, top 5); bm25s's is `retrieve(k=5)` with the numba backend on queries
 *   tokenised beforehand, i.e. scoring and top-k alone.
 * The ratio is bm25s's time over ours: above 1 means ours is faster. CPU time (user + system, all
 * threads) is printed beside wall time: on a shared machine it moves less with the other load.
 *
 * Ours is the built package (`dist/`; the benchmark refuses a missing or stale build).
 * `--implementation DIR` measures another checkout's model-retriever package (DIR holds its `dist/`),
 * e.g. the version before a change, against the same bm25s figures. `--baseline DIR` adds a third
 * column from another checkout, measured in the same interleaved runs (before and after a change
 * side by side, with bm25s as the common reference). `--workers` builds ours with
 * `{ workers: true }` (cards prepared on a worker thread, its start-up included).
 *
 * Needs a Python with bm25s, PyStemmer and numba (`pip install bm25s PyStemmer numba`); by default
 * $P2M_PYTHON, else `python3`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { instructionQueries } from './queries.js';

const here = import.meta.dirname;
const defaultCards = resolve(here, '../../../../shared/data/hub/models.jsonl');
const rounds = 10;
/** Warm-up rounds before the timed ones (`--warmup N`, default 1), the same on both sides. */
let warmupRounds = 1;

type Figures = Record<string, number | string>;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** CPU time of this process (all threads, user + system): steadier than wall time on a shared machine. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function child(mode: string, cardsPath: string, work: string, implementation: string, workers: boolean): Promise<Figures> {
  const { ModelIndex } = (await import(join(implementation, 'dist/index.js'))) as typeof import('../src/internal.js');
  const file = join(work, 'model-index.bin');
  if (mode === 'build') {
    const cards = readFileSync(cardsPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
    const start = performance.now();
    const cpu = cpuMs();
    // `workers` only where asked: a checkout from before the option ignores it.
    const index = await ModelIndex.fromCards(cards, workers ? { workers } : {});
    const buildCpuMs = cpuMs() - cpu;
    const buildMs = performance.now() - start;
    await index.save(file);
    return { buildMs, buildCpuMs, fileBytes: statSync(file).size, documents: index.size };
  }
  const start = performance.now();
  const cpu = cpuMs();
  const index = await ModelIndex.load(file);
  const loadCpuMs = cpuMs() - cpu;
  const loadMs = performance.now() - start;
  for (let round = 0; round < warmupRounds; round++) for (const query of instructionQueries) index.search(query, { topK: 5 });
  const times: number[] = [];
  const queryCpu = cpuMs();
  for (let round = 0; round < rounds; round++) {
    for (const query of instructionQueries) {
      const begin = performance.now();
      index.search(query, { topK: 5 });
      times.push(performance.now() - begin);
    }
  }
  const queryCpuMeanMs = (cpuMs() - queryCpu) / times.length;
  times.sort((a, b) => a - b);
  return { loadMs, loadCpuMs, queryP50Ms: percentile(times, 50), queryP99Ms: percentile(times, 99), queryCpuMeanMs, queries: times.length };
}

/**
 * Ours is measured as users run it: the built package (`dist/`), not the sources transformed by
 * tsx inside the measured process (whose loader thread then shares the two cores with the timed
 * queries). A build older than its sources would measure old code, so it is refused.
 */
function staleBuild(checkout: string): string | undefined {
  const build = `npx turbo run build --filter=@prompt2model/model-retriever (in ${resolve(checkout, '../..')})`;
  // This package and the BM25 package it imports, each built after its last source change.
  for (const pkg of [checkout, join(checkout, '../bm25')]) {
    const built = join(pkg, 'dist/index.js');
    let builtAt: number;
    try {
      builtAt = statSync(built).mtimeMs;
    } catch {
      return `${built} is missing: the benchmark measures the built package. Build it first: ${build}`;
    }
    for (const name of readdirSync(join(pkg, 'src'))) {
      if (statSync(join(pkg, 'src', name)).mtimeMs > builtAt) return `${join(pkg, 'src', name)} is newer than ${built}: rebuild first: ${build}`;
    }
  }
  return undefined;
}

function lastJsonLine(output: string): Figures {
  return JSON.parse(output.trim().split('\n').pop()!) as Figures;
}

function runOurs(mode: string, cardsPath: string, work: string, implementation: string, workers = false): Figures {
  return lastJsonLine(
    execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', mode, cardsPath, work, implementation, ...(workers ? ['--workers'] : []), '--warmup', String(warmupRounds)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      cwd: implementation,
    }),
  );
}

function runBm25s(python: string, mode: string, source: string, work: string): Figures {
  return lastJsonLine(execFileSync(python, [join(here, 'bm25s_reference.py'), mode, source, work], { encoding: 'utf8', maxBuffer: 1 << 20 }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const warmupAt = args.indexOf('--warmup');
  if (warmupAt >= 0) {
    warmupRounds = Number(args[warmupAt + 1]);
    if (!Number.isInteger(warmupRounds) || warmupRounds < 1) {
      console.error(`--warmup takes a whole number of rounds, at least 1 (got ${args[warmupAt + 1]})`);
      process.exit(2);
    }
  }
  if (args[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await child(args[1]!, args[2]!, args[3]!, args[4]!, args.includes('--workers')))}\n`);
    return;
  }
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const cardsPath = resolve(option('--cards') ?? defaultCards);
  const runs = Number(option('--runs') ?? 3);
  const python = option('--python') ?? process.env.P2M_PYTHON ?? 'python3';
  const implementation = resolve(option('--implementation') ?? join(here, '..'));
  const baselineOption = option('--baseline');
  const baseline = baselineOption === undefined ? undefined : resolve(baselineOption);
  const workers = args.includes('--workers');
  for (const checkout of baseline ? [implementation, baseline] : [implementation]) {
    const stale = staleBuild(checkout);
    if (stale) {
      console.error(stale);
      process.exit(2);
    }
  }
  try {
    execFileSync(python, ['-c', 'import bm25s, Stemmer, numba'], { stdio: 'pipe' });
  } catch {
    console.error(`${python} cannot import bm25s, PyStemmer and numba: install them with \`${python} -m pip install bm25s PyStemmer numba\`, or pass --python.`);
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-bm25s-'));
  const queriesFile = join(work, 'queries.json');
  writeFileSync(queriesFile, JSON.stringify({ instructions: instructionQueries, rounds, warmupRounds }));
  console.log(`BM25 against bm25s: ${cardsPath}, ours from ${implementation}${baseline ? `, baseline from ${baseline}` : ''}, ${runs} interleaved runs, median; ${warmupRounds} warm-up round(s) before the 10 timed ones`);
  try {
    const results: Record<string, Figures[]> = { 'bm25s-build': [], 'ours-build': [], 'bm25s-load': [], 'ours-load': [] };
    for (let run = 0; run < runs; run++) {
      results['bm25s-build']!.push(runBm25s(python, 'build', cardsPath, work));
      results['ours-build']!.push(runOurs('build', cardsPath, work, implementation, workers));
      results['bm25s-load']!.push(runBm25s(python, 'load', queriesFile, work));
      results['ours-load']!.push(runOurs('load', cardsPath, work, implementation));
      if (baseline) {
        // Its own index file: the baseline may write another format.
        const baselineWork = join(work, 'baseline');
        mkdirSync(baselineWork, { recursive: true });
        (results['baseline-build'] ??= []).push(runOurs('build', cardsPath, baselineWork, baseline));
        (results['baseline-load'] ??= []).push(runOurs('load', cardsPath, baselineWork, baseline));
      }
      process.stderr.write(`run ${run + 1}/${runs} done\n`);
    }
    const figure = (mode: string, key: string) => median(results[mode]!.map((result) => Number(result[key])));
    const rows: Array<[string, string, string]> = [
      ['build (ms)', 'build', 'buildMs'],
      ['load (ms)', 'load', 'loadMs'],
      ['query p50 (ms)', 'load', 'queryP50Ms'],
      ['query p99 (ms)', 'load', 'queryP99Ms'],
      ['build, CPU time (ms)', 'build', 'buildCpuMs'],
      ['load, CPU time (ms)', 'load', 'loadCpuMs'],
      ['query, mean CPU time (ms)', 'load', 'queryCpuMeanMs'],
    ];
    const table = [['figure', 'bm25s', 'ours', 'bm25s / ours', ...(baseline ? ['baseline', 'bm25s / baseline'] : [])]];
    const ratios: Record<string, number> = {};
    for (const [label, phase, key] of rows) {
      const reference = figure(`bm25s-${phase}`, key);
      const ours = figure(`ours-${phase}`, key);
      ratios[key] = reference / ours;
      const digits = key.startsWith('query') ? 3 : 0;
      if (!Number.isFinite(reference) || !Number.isFinite(ours)) continue;
      const row = [label, reference.toFixed(digits), ours.toFixed(digits), `${(reference / ours).toFixed(2)}×`];
      if (baseline) {
        const before = figure(`baseline-${phase}`, key);
        row.push(before.toFixed(digits), `${(reference / before).toFixed(2)}×`);
      }
      table.push(row);
    }
    const files = ['index files (MB)', (figure('bm25s-build', 'fileBytes') / 1e6).toFixed(1), (figure('ours-build', 'fileBytes') / 1e6).toFixed(1), ''];
    if (baseline) files.push((figure('baseline-build', 'fileBytes') / 1e6).toFixed(1), '');
    table.push(files);
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
    for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
    const ahead = ['buildMs', 'loadMs', 'queryP50Ms', 'queryP99Ms'].filter((key) => ratios[key]! > 1).length;
    console.log(`ours is ahead of bm25s on ${ahead} of the four wall-clock figures`);
    console.log(JSON.stringify({ runs, node: process.version, ratios, results }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

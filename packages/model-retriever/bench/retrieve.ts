/**
 * Model retrieval benchmark over the 11,320 real model cards (../shared/data/hub/models.jsonl).
 *
 *   node --import tsx packages/model-retriever/bench/retrieve.ts [--cards PATH] [--runs 3]
 *
 * Baseline, measured in the same run: raw wink-bm25-text-search with its documented default prep
 * (lowercase, tokenize0, stop words, stem) over the full cards, persisted with its exportJSON.
 * Each measurement runs in a fresh child process (`--expose-gc`), so peak memory (max RSS) and the
 * heap retained by the index are not polluted by the other side. Figures: cold build, persisted
 * index load, query latency p50/p99 (instruction queries and HyDE-sized card queries), peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hydeQueries, instructionQueries } from './queries.js';

const here = import.meta.dirname;
const defaultCards = resolve(here, '../../../../shared/data/hub/models.jsonl');

const winkDefaultPrep = (nlp: any) => [nlp.string.lowerCase, nlp.string.tokenize0, nlp.tokens.removeWords, nlp.tokens.stem];

interface ChildResult {
  [key: string]: number | string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function latencies(run: (query: string) => unknown, queries: string[], rounds: number): { p50: number; p99: number } {
  for (const query of queries) run(query); // warm-up: JIT and lazily built buffers
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const query of queries) {
      const start = performance.now();
      run(query);
      times.push(performance.now() - start);
    }
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function heapUsedAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

function maxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function readCards(path: string): Array<{ id: string; card: string; sizeBytes?: number; downloads?: number }> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

async function child(mode: string, cardsPath: string, work: string): Promise<ChildResult> {
  const require = createRequire(import.meta.url);
  if (mode === 'baseline-build' || mode === 'baseline-load') {
    const bm25 = require('wink-bm25-text-search');
    const nlp = require('wink-nlp-utils');
    const file = join(work, 'baseline.json');
    if (mode === 'baseline-build') {
      const cards = readCards(cardsPath);
      const before = heapUsedAfterGc();
      const start = performance.now();
      const engine = bm25();
      engine.defineConfig({ fldWeights: { card: 1 } });
      engine.definePrepTasks(winkDefaultPrep(nlp));
      cards.forEach((row, position) => engine.addDoc({ card: row.card }, position));
      engine.consolidate();
      const buildMs = performance.now() - start;
      const retained = heapUsedAfterGc() - before;
      writeFileSync(file, engine.exportJSON());
      return { buildMs, retainedHeapBytes: retained, peakRssBytes: maxRssBytes(), fileBytes: statSync(file).size };
    }
    const before = heapUsedAfterGc();
    const start = performance.now();
    const engine = bm25();
    engine.importJSON(readFileSync(file, 'utf8'));
    engine.definePrepTasks(winkDefaultPrep(nlp));
    const loadMs = performance.now() - start;
    const retained = heapUsedAfterGc() - before;
    const rounds = 10;
    const instructions = latencies((query) => engine.search(query, 5), instructionQueries, rounds);
    const hyde = latencies((query) => engine.search(query, 5), hydeQueries, rounds * 4);
    return {
      loadMs,
      retainedHeapBytes: retained,
      queryP50Ms: instructions.p50,
      queryP99Ms: instructions.p99,
      hydeP50Ms: hyde.p50,
      hydeP99Ms: hyde.p99,
      peakRssBytes: maxRssBytes(),
    };
  }

  const { ModelIndex } = await import('../src/index.js');
  const file = join(work, 'index.json');
  if (mode === 'ours-build') {
    const cards = readCards(cardsPath);
    const before = heapUsedAfterGc();
    const start = performance.now();
    const index = await ModelIndex.fromCards(cards);
    const buildMs = performance.now() - start;
    const retained = heapUsedAfterGc() - before;
    await index.save(file);
    return { buildMs, retainedHeapBytes: retained, peakRssBytes: maxRssBytes(), fileBytes: statSync(file).size };
  }
  const before = heapUsedAfterGc();
  const start = performance.now();
  const index = await ModelIndex.load(file);
  const loadMs = performance.now() - start;
  const retained = heapUsedAfterGc() - before;
  const rounds = 10;
  // The full search path: BM25, popularity scorer, size filter (3 GB) and top-5.
  const instructions = latencies((query) => index.search(query, { topK: 5 }), instructionQueries, rounds);
  const hyde = latencies((query) => index.search(query, { topK: 5 }), hydeQueries, rounds * 4);
  const withGpu = latencies((query) => index.search(query, { topK: 5, gpuMemoryBytes: 24e9 }), instructionQueries, rounds);
  return {
    loadMs,
    retainedHeapBytes: retained,
    queryP50Ms: instructions.p50,
    queryP99Ms: instructions.p99,
    hydeP50Ms: hyde.p50,
    hydeP99Ms: hyde.p99,
    gpuFilterP50Ms: withGpu.p50,
    peakRssBytes: maxRssBytes(),
  };
}

function runChild(mode: string, cardsPath: string, work: string): ChildResult {
  const output = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', mode, cardsPath, work], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output.trim().split('\n').pop()!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const result = await child(args[1]!, args[2]!, args[3]!);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const cardsPath = resolve(option('--cards') ?? defaultCards);
  const runs = Number(option('--runs') ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'bench-retrieve-'));
  const cardCount = readCards(cardsPath).length;
  console.log(`model retrieval benchmark: ${cardCount} cards from ${cardsPath}, ${runs} runs each (median)`);
  try {
    const results: Record<string, ChildResult[]> = { 'baseline-build': [], 'baseline-load': [], 'ours-build': [], 'ours-load': [] };
    for (let run = 0; run < runs; run++) {
      // Interleaved, so machine noise hits both sides alike.
      for (const mode of Object.keys(results)) results[mode]!.push(runChild(mode, cardsPath, work));
    }
    const figure = (mode: string, key: string) => {
      const values = results[mode]!.map((result) => result[key]).filter((value): value is number => typeof value === 'number');
      return values.length ? median(values) : undefined;
    };
    const rows: Array<[string, string, (value: number) => string]> = [
      ['cold build (ms)', 'buildMs', (v) => v.toFixed(0)],
      ['persisted index file (MB)', 'fileBytes', (v) => (v / 1e6).toFixed(1)],
      ['index heap after build (MB)', 'build:retainedHeapBytes', (v) => (v / 1e6).toFixed(1)],
      ['peak RSS during build (MB)', 'build:peakRssBytes', (v) => (v / 1e6).toFixed(0)],
      ['load persisted index (ms)', 'loadMs', (v) => v.toFixed(0)],
      ['index heap after load (MB)', 'load:retainedHeapBytes', (v) => (v / 1e6).toFixed(1)],
      ['peak RSS load + queries (MB)', 'load:peakRssBytes', (v) => (v / 1e6).toFixed(0)],
      ['instruction query p50 (ms)', 'queryP50Ms', (v) => v.toFixed(3)],
      ['instruction query p99 (ms)', 'queryP99Ms', (v) => v.toFixed(3)],
      ['HyDE card query p50 (ms)', 'hydeP50Ms', (v) => v.toFixed(3)],
      ['HyDE card query p99 (ms)', 'hydeP99Ms', (v) => v.toFixed(3)],
      ['query p50 with GPU filter (ms)', 'gpuFilterP50Ms', (v) => v.toFixed(3)],
    ];
    const lookup = (side: 'baseline' | 'ours', key: string) => {
      const [phase, name] = key.includes(':') ? key.split(':') : [undefined, key];
      const modes = phase ? [`${side}-${phase}`] : [`${side}-build`, `${side}-load`];
      for (const mode of modes) {
        const value = figure(mode, name!);
        if (value !== undefined) return value;
      }
      return undefined;
    };
    const table = [['figure', 'wink default (baseline)', 'model-retriever'], ...rows.map(([label, key, format]) => {
      const base = lookup('baseline', key);
      const ours = lookup('ours', key);
      return [label, base === undefined ? '—' : format(base), ours === undefined ? '—' : format(ours)];
    })];
    const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
    for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
    console.log(JSON.stringify({ cards: cardCount, runs, node: process.version, results }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

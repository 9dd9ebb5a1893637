/**
 * The query path in WebAssembly (`src/kernels.wat`) against the same loops in JavaScript
 * (`topMatches`, top 5), on a synthetic corpus the size of the 11,320 model cards (Zipf-like
 * vocabulary, 11,320 documents of 20–100 words). The real cards and instructions, against bm25s:
 * `packages/model-retriever/bench/vs-bm25s.ts`.
 *
 *   node --import tsx packages/bm25/bench/kernels.ts [--rounds 200] [--queries 20] [--runs 3]
 *
 * Each path runs in fresh processes (`--runs` each, alternating; medians), so neither inherits the
 * other's optimised code. Prints, for each path: the first round's mean query time (V8 has
 * optimised nothing yet), the mean and p99 over the later rounds, and the ratio JavaScript /
 * WebAssembly (above 1: the kernels are faster). Both paths return the same matches, checked on
 * every query first.
 */
import { execFileSync } from 'node:child_process';
import { Bm25Index } from '../src/index.js';
import { useWebAssemblyKernels } from '../src/kernels.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const rounds = option('--rounds', 200);
const queryCount = option('--queries', 20);
const runs = option('--runs', 3);

function corpus(): { texts: string[]; queries: string[] } {
  let state = 20261207;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const words = Array.from({ length: 40_000 }, (_, i) => `w${i.toString(36)}q`);
  // A few words in most documents, many rare ones (about 60 distinct words a document).
  const word = () => words[Math.min(words.length - 1, Math.floor(words.length * random() ** 4))]!;
  const texts = Array.from({ length: 11_320 }, () => Array.from({ length: 20 + Math.floor(random() * 80) }, word).join(' '));
  // One-line instructions: a common word or two, a rarer one or two.
  const queries = Array.from({ length: queryCount }, () => [word(), word(), words[Math.floor(random() * 2000)]!, words[Math.floor(random() * 200)]!].join(' '));
  return { texts, queries };
}

function build(texts: string[], kernels: boolean): Bm25Index {
  useWebAssemblyKernels(kernels);
  const index = new Bm25Index();
  texts.forEach((text, i) => index.add(`doc-${i}`, text));
  index.consolidate();
  useWebAssemblyKernels(true);
  return index;
}

function measure(index: Bm25Index, queries: string[]): { first: number; mean: number; p99: number } {
  const times: number[] = [];
  let first = 0;
  for (let round = 0; round < rounds; round++) {
    const start = performance.now();
    for (const query of queries) {
      const begin = performance.now();
      index.topMatches(query, 5);
      if (round > 0) times.push(performance.now() - begin);
    }
    if (round === 0) first = (performance.now() - start) / queries.length;
  }
  times.sort((a, b) => a - b);
  return { first, mean: times.reduce((sum, t) => sum + t, 0) / times.length, p99: times[Math.floor(times.length * 0.99)]! };
}

const { texts, queries } = corpus();
const childAt = args.indexOf('--child');
if (childAt >= 0) {
  // One path, timed in this fresh process.
  process.stdout.write(`${JSON.stringify(measure(build(texts, args[childAt + 1] === 'wasm'), queries))}\n`);
} else {
  const wasm = build(texts, true);
  const js = build(texts, false);
  for (const query of queries) {
    if (JSON.stringify(wasm.topMatches(query, 5)) !== JSON.stringify(js.topMatches(query, 5))) throw new Error(`the two paths disagree on "${query}"`);
  }
  const results: Record<'wasm' | 'js', Array<{ first: number; mean: number; p99: number }>> = { wasm: [], js: [] };
  for (let run = 0; run < runs; run++) {
    for (const path of ['wasm', 'js'] as const) {
      const output = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, ...args, '--child', path], { encoding: 'utf8' });
      results[path].push(JSON.parse(output.trim().split('\n').pop()!));
    }
  }
  const median = (path: 'wasm' | 'js', key: 'first' | 'mean' | 'p99') => results[path].map((result) => result[key]).sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`${queries.length} queries × ${rounds} rounds, top 5, ${texts.length} documents; each path in ${runs} fresh processes, median`);
  console.log('figure              WebAssembly  JavaScript  JavaScript / WebAssembly');
  for (const [label, key] of [['first round, mean', 'first'], ['later rounds, mean', 'mean'], ['later rounds, p99', 'p99']] as const) {
    console.log(`${label.padEnd(20)}${us(median('wasm', key)).padEnd(13)}${us(median('js', key)).padEnd(12)}${(median('js', key) / median('wasm', key)).toFixed(2)}×`);
  }
}

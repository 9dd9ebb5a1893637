/**
 * Metric throughput. Run from the repository root:
 *   node --import tsx packages/evaluator/bench/metrics.ts
 * (or `npm run bench` in packages/evaluator). Needs ../shared/data beside the repository.
 *
 * 1. Corpus chrF++ over the 10,000 sentence pairs of metrics/chrf_pairs_10k.json (sacrebleu 2.x:
 *    83.6703 on it, about 2,000 pairs/s on the 2-core dev box).
 * 2. Sentence-level chrF++ for every pair (one score each).
 * 3. BERTScore over the tiny ONNX encoder the project builds, at several batch sizes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// From source, so the benchmark never runs a stale build of the testing package.
import { buildTinyEncoder } from '../../testing/src/onnx/index.js';
import { bertScore, TransformersTokenEncoder } from '../src/metrics/bertscore.js';
import { chrF, sentenceChrFScores } from '../src/metrics/chrf.js';

const SACREBLEU_SCORE = 83.6703;
const dataPath = resolve(import.meta.dirname, '../../../../shared/data/metrics/chrf_pairs_10k.json');
const pairs = JSON.parse(readFileSync(dataPath, 'utf8')) as Array<[string, string]>;
// Pairs are (reference, hypothesis).
const references = pairs.map((pair) => pair[0]);
const hypotheses = pairs.map((pair) => pair[1]);
const averageLength = pairs.reduce((sum, pair) => sum + [...pair[0]].length + [...pair[1]].length, 0) / (2 * pairs.length);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Median wall time, and median CPU time of this process (user + system): on a shared machine the
 * wall time swings with other jobs, the CPU time much less.
 */
function time<T>(runs: number, fn: () => T): { result: T; medianMs: number; bestMs: number; medianCpuMs: number } {
  fn(); // warm-up (JIT)
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let result!: T;
  for (let run = 0; run < runs; run++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    result = fn();
    times.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  return { result, medianMs: median(times), bestMs: Math.min(...times), medianCpuMs: median(cpuTimes) };
}

console.log(`node ${process.version}, ${pairs.length} pairs, ${averageLength.toFixed(0)} characters per sentence on average\n`);

const corpus = time(7, () => chrF(hypotheses, references));
const rate = (ms: number) => Math.round((pairs.length / ms) * 1000);
console.log(`corpus chrF++: ${corpus.result.score.toFixed(4)} (sacrebleu ${SACREBLEU_SCORE}; ${corpus.result.score.toFixed(4) === SACREBLEU_SCORE.toFixed(4) ? 'identical' : 'DIFFERENT'})`);
console.log(`  median ${corpus.medianMs.toFixed(0)} ms → ${rate(corpus.medianMs)} pairs/s (best ${rate(corpus.bestMs)} pairs/s); ${(rate(corpus.medianMs) / 2000).toFixed(1)}x sacrebleu's ~2,000 pairs/s`);
console.log(`  CPU time: median ${corpus.medianCpuMs.toFixed(0)} ms → ${rate(corpus.medianCpuMs)} pairs per CPU-second`);

const plainChrF = time(5, () => chrF(hypotheses, references, { wordOrder: 0 }));
console.log(`corpus chrF (no word n-grams): ${plainChrF.result.score.toFixed(4)}, median ${rate(plainChrF.medianMs)} pairs/s`);

const sentences = time(5, () => sentenceChrFScores(hypotheses, references));
console.log(`sentence chrF++ (10,000 scores): median ${rate(sentences.medianMs)} pairs/s\n`);

const root = await mkdtemp(join(tmpdir(), 'p2m-bench-'));
try {
  const { dir } = await buildTinyEncoder(join(root, 'encoder'), { hiddenSize: 64 });
  const count = 1000;
  const benchReferences = references.slice(0, count);
  const benchHypotheses = hypotheses.slice(0, count);
  console.log(`BERTScore, tiny ONNX encoder (hidden 64, one layer), ${count} pairs:`);
  for (const batchSize of [1, 8, 32, 64]) {
    const encoder = new TransformersTokenEncoder({ model: dir, batchSize });
    await bertScore(benchHypotheses.slice(0, 50), benchReferences.slice(0, 50), { encoder }); // load + warm-up
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = await bertScore(benchHypotheses, benchReferences, { encoder });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    console.log(
      `  batch ${String(batchSize).padStart(2)}: ${Math.round((count / ms) * 1000)} pairs/s, ${Math.round((count / cpuMs) * 1000)} pairs per CPU-second (all threads) (mean F1 ${result.mean.f1.toFixed(4)})`,
    );
    await encoder.dispose();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

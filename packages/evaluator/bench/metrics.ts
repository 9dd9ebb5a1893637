/**
 * Metric throughput. Run from the repository root:
 *   node --import tsx packages/evaluator/bench/metrics.ts [--python PATH] [--no-sacrebleu] [--no-bertscore] [--chrf FILE]
 * (or `npm run bench` in packages/evaluator). Needs ../shared/data beside the repository.
 *
 * 1. sacrebleu (in the managed Python environment, or --python / P2M_PYTHON; `pip install
 *    sacrebleu` there) over the 10,000 sentence pairs of metrics/chrf_pairs_10k.json, in the same
 *    run: corpus chrF++, sentence chrF++ per pair (one reused CHRF object, and its one-call
 *    `sentence_chrf`).
 * 2. Ours on the same pairs: corpus chrF++, one `sentenceChrF` call per pair, and the batch
 *    `sentenceChrFScores`; each against its sacrebleu counterpart as a ratio, and every sentence
 *    score compared with sacrebleu's for bit-identity.
 * 3. BERTScore over the tiny ONNX encoder the project builds, at several batch sizes.
 * `--chrf FILE` measures another chrF module (e.g. an older version copied beside chrf.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// From source, so the benchmark never runs a stale build of the testing package.
import { buildTinyEncoder } from '../../testing/src/onnx/index.js';
import { bertScore, TransformersTokenEncoder } from '../src/metrics/bertscore.js';
import { defaultPython } from '../../trainer/src/python-environment.js';
import type * as ChrFModule from '../src/metrics/chrf.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const chrfModule = option('--chrf');
const { chrF, sentenceChrF, sentenceChrFScores } = (await import(
  chrfModule ? pathToFileURL(resolve(chrfModule)).href : '../src/metrics/chrf.js'
)) as typeof ChrFModule;

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

console.log(`node ${process.version}, ${pairs.length} pairs, ${averageLength.toFixed(0)} characters per sentence on average${chrfModule ? `, chrF from ${chrfModule}` : ''}\n`);

interface SacrebleuFigures {
  version: string;
  corpus: number;
  sentenceScores: number[];
  seconds: { corpus: number; sentence_score: number; sentence_chrf: number };
  cpuSeconds: { corpus: number; sentence_score: number; sentence_chrf: number };
}

/** sacrebleu over the same pairs, in its own process (median of 3 runs of each way of scoring). */
function runSacrebleu(): SacrebleuFigures | undefined {
  if (args.includes('--no-sacrebleu')) return undefined;
  const python = option('--python') ?? defaultPython();
  const result = spawnSync(python, [join(import.meta.dirname, 'sacrebleu_chrf.py'), dataPath, '3'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) {
    console.log(`sacrebleu: not measured (${python}: ${(result.stderr || String(result.error)).trim().split('\n').at(-1)}); install it with \`${python} -m pip install sacrebleu\`\n`);
    return undefined;
  }
  return JSON.parse(result.stdout) as SacrebleuFigures;
}

const rate = (ms: number) => Math.round((pairs.length / ms) * 1000);
const sacrebleu = runSacrebleu();
const corpus = time(7, () => chrF(hypotheses, references));
const perCall = time(5, () => hypotheses.map((hypothesis, index) => sentenceChrF(hypothesis, references[index]!).score));
const batch = time(5, () => sentenceChrFScores(hypotheses, references));
const plainChrF = time(5, () => chrF(hypotheses, references, { wordOrder: 0 }));

type Way = keyof SacrebleuFigures['seconds'];
const rows: Array<{ what: string; ours: { medianMs: number; medianCpuMs: number }; way: Way; sacrebleuWay: string }> = [
  { what: 'corpus chrF++ (one call)', ours: corpus, way: 'corpus', sacrebleuWay: 'CHRF().corpus_score' },
  { what: 'sentence chrF++, one sentenceChrF call per pair', ours: perCall, way: 'sentence_score', sacrebleuWay: 'one CHRF(), sentence_score per pair' },
  { what: 'sentence chrF++, one sentenceChrF call per pair', ours: perCall, way: 'sentence_chrf', sacrebleuWay: 'sacrebleu.sentence_chrf per pair' },
  { what: 'sentence chrF++, sentenceChrFScores (batch)', ours: batch, way: 'sentence_score', sacrebleuWay: 'one CHRF(), sentence_score per pair' },
];
console.log(`chrF++ throughput, pairs/s (medians; wall clock, and per CPU-second of the process; sacrebleu ${sacrebleu?.version ?? 'not run'} in the same run):`);
console.log('| ours | pairs/s (wall) | pairs per CPU-s | sacrebleu | pairs/s (wall) | pairs per CPU-s | ratio, wall | ratio, CPU |\n| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) {
  const theirs = sacrebleu ? { wall: rate(sacrebleu.seconds[row.way] * 1000), cpu: rate(sacrebleu.cpuSeconds[row.way] * 1000) } : undefined;
  const ours = { wall: rate(row.ours.medianMs), cpu: rate(row.ours.medianCpuMs) };
  const ratio = (a: number, b: number | undefined) => (b ? `**${(a / b).toFixed(1)}×**` : '—');
  console.log(
    `| ${row.what} | ${ours.wall} | ${ours.cpu} | ${row.sacrebleuWay} | ${theirs?.wall ?? '—'} | ${theirs?.cpu ?? '—'} | ${ratio(ours.wall, theirs?.wall)} | ${ratio(ours.cpu, theirs?.cpu)} |`,
  );
}
console.log(`corpus chrF (no word n-grams): ${plainChrF.result.score.toFixed(4)}, median ${rate(plainChrF.medianMs)} pairs/s`);
if (sacrebleu) {
  const same = (a: number, b: number) => Object.is(a, b);
  const perCallDiffer = perCall.result.filter((score, index) => !same(score, sacrebleu.sentenceScores[index]!)).length;
  const batchDiffer = batch.result.filter((score, index) => !same(score, sacrebleu.sentenceScores[index]!)).length;
  console.log(
    `scores: corpus ${corpus.result.score} vs sacrebleu ${sacrebleu.corpus} (${same(corpus.result.score, sacrebleu.corpus) ? 'bit-identical' : 'DIFFERENT'}); ` +
      `sentence scores differing from sacrebleu's in any bit: ${perCallDiffer} per call, ${batchDiffer} batch, of ${pairs.length}\n`,
  );
} else {
  console.log(`corpus chrF++: ${corpus.result.score.toFixed(4)} (sacrebleu 2.x: ${SACREBLEU_SCORE})\n`);
}

if (args.includes('--no-bertscore')) process.exit(0);
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

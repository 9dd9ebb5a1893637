/**
 * The cascade's calibration curve: every threshold scored as the evaluator scores it. Run from the
 * repository root:
 *   node --import tsx packages/evaluator/bench/cascade-calibration.ts [--rows 200,1000]
 *
 * Synthetic held-out rows (seeded: sentences of 8-19 words, the student right 70% of the time, the
 * teacher 90%, a uniform confidence), up to 200 thresholds each. In the same run, for chrF++ (a
 * corpus metric) the curve as `calibrationCurve` draws it (each answer's statistics once, summed per
 * mix) against the baseline of scoring every mixed list with `computeMetrics`; the two must agree
 * exactly, and the ratio is printed. Exact match (a mean of rows) is shown alone.
 */
import { calibrationCurve, candidateThresholds, type CalibrationRow } from '../src/cascade/calibration.js';
import { computeMetrics } from '../src/metrics/compute.js';

const args = process.argv.slice(2);
const sizes = (args.includes('--rows') ? args[args.indexOf('--rows') + 1]! : '200,1000').split(',').map(Number);

const words = 'the cat sat on a mat and dog barked loudly at night while birds sang songs'.split(' ');
let seed = 1;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
const sentence = () => Array.from({ length: 8 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ');

for (const count of sizes) {
  const rows: CalibrationRow[] = Array.from({ length: count }, (_, index) => {
    const reference = sentence();
    return { input: String(index), reference, student: random() < 0.7 ? reference : sentence(), teacher: random() < 0.9 ? reference : sentence(), confidence: random() };
  });
  const thresholds = candidateThresholds(rows.map((row) => row.confidence));
  let started = performance.now();
  const exact = await calibrationCurve(rows, { metric: 'exact_match' });
  const exactMs = performance.now() - started;
  started = performance.now();
  const curve = await calibrationCurve(rows, { metric: 'chrf++' });
  const oursMs = performance.now() - started;
  started = performance.now();
  const references = rows.map((row) => row.reference);
  const baseline: number[] = [];
  for (const threshold of thresholds) {
    const outputs = rows.map((row) => (row.confidence! >= threshold ? row.student : row.teacher));
    baseline.push((await computeMetrics(outputs, references, ['chrf++']))['chrf++']!);
  }
  const baselineMs = performance.now() - started;
  const identical = curve.curve.every((point, index) => point.quality === baseline[index]);
  console.log(
    `${count} rows, ${thresholds.length} thresholds: exact_match curve ${exactMs.toFixed(0)} ms; chrF++ curve ${oursMs.toFixed(0)} ms vs ${baselineMs.toFixed(0)} ms scoring each mix (${(baselineMs / oursMs).toFixed(1)}x faster, ${identical ? 'identical' : 'DIFFERENT'} scores); chosen coverage ${curve.chosen.coverage.toFixed(3)} (exact match ${exact.chosen.coverage.toFixed(3)})`,
  );
}

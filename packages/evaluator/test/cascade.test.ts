import { InvalidArgumentError } from '@prompt2model/core/internal';
import { describe, expect, it } from 'vitest';
import { calibrationCurve, cascadeCostPer1000, chooseThreshold, type CalibrationRow } from '../src/cascade/calibration.js';
import { computeMetrics } from '../src/metrics/compute.js';

// Five held-out rows, scored by exact match; hand-computed below.
const rows: CalibrationRow[] = [
  { input: '1', reference: 'a', student: 'a', teacher: 'a', confidence: 0.9 },
  { input: '2', reference: 'b', student: 'b', teacher: 'b', confidence: 0.8 },
  { input: '3', reference: 'c', student: 'x', teacher: 'c', confidence: 0.6 },
  { input: '4', reference: 'd', student: 'd', teacher: 'y', confidence: 0.4 },
  { input: '5', reference: 'e', student: 'z', teacher: 'e', confidence: null },
];

describe('calibration math', () => {
  it('draws the coverage-quality curve by hand-computable rules: kept when confidence >= threshold, no confidence goes to the teacher', async () => {
    const curve = await calibrationCurve(rows, { metric: 'exact_match' });
    // Teacher right on 1,2,3,5 (0.8); student on 1,2,4 (0.6).
    expect(curve.teacherQuality).toBeCloseTo(0.8);
    expect(curve.studentQuality).toBeCloseTo(0.6);
    expect(curve.curve.map(({ threshold, coverage, quality }) => [threshold, coverage, Number(quality.toFixed(6))])).toEqual([
      [0.4, 0.8, 0.8], // student 1-4 (a b x d) + teacher e: 1,2,4,5 right
      [0.6, 0.6, 0.6], // student 1-3 (a b x) + teacher y e: 1,2,5 right
      [0.8, 0.4, 0.8], // student 1-2 + teacher c y e: 1,2,3,5 right
      [0.9, 0.2, 0.8], // student 1 + teacher b c y e
    ]);
    expect(curve.curve[1]!.relativeQuality).toBeCloseTo(0.75);
    // The most coverage that keeps 99% of the teacher: 0.4 (not monotone: 0.6 falls below).
    expect(curve.chosen).toEqual({ threshold: 0.4, coverage: 0.8, quality: expect.closeTo(0.8), relativeQuality: expect.closeTo(1) });
  });

  it('picks the lowest threshold among those that keep the same traffic, and sends everything to the teacher when none keeps its quality', async () => {
    const tied = await calibrationCurve(rows, { metric: 'exact_match', thresholds: [0.35, 0.3, 0.4] });
    expect(tied.curve.map((point) => point.coverage)).toEqual([0.8, 0.8, 0.8]);
    expect(tied.chosen.threshold).toBe(0.3);
    const unusable = rows.map((row) => ({ ...row, student: 'wrong' }));
    const none = await calibrationCurve(unusable, { metric: 'exact_match' });
    expect(none.chosen).toEqual({ threshold: null, coverage: 0, quality: expect.closeTo(0.8), relativeQuality: 1 });
    // A looser target accepts a worse cascade: 0.75 of 0.8 = 0.6 admits threshold 0.6? No: it
    // admits every point, so the most coverage (0.4's 80%) wins.
    expect(chooseThreshold(tied.curve, 0.8, 0.75).coverage).toBe(0.8);
    expect(() => chooseThreshold(tied.curve, 0.8, 1.5)).toThrow(InvalidArgumentError);
  });

  it('scores a corpus metric (chrF++) over the mixed answers, as the evaluator does, not as a mean of row scores', async () => {
    const text = [
      { input: '1', reference: 'the cat sat on the mat', student: 'the cat sat on a mat', teacher: 'the cat sat on the mat', confidence: 0.9 },
      { input: '2', reference: 'a dog barked loudly', student: 'dog', teacher: 'a dog barked', confidence: 0.2 },
    ];
    const curve = await calibrationCurve(text, { metric: 'chrf++' });
    const mixed = await computeMetrics(['the cat sat on a mat', 'a dog barked'], text.map((row) => row.reference), ['chrf++']);
    expect(curve.curve.find((point) => point.threshold === 0.9)!.quality).toBeCloseTo(mixed['chrf++']!, 10);
    // Per-answer statistics summed per mix give exactly what scoring the mixed list gives, for every
    // threshold, chrF and chrF++, multiple references included.
    const more: CalibrationRow[] = [
      ...text,
      { input: '3', reference: ['it was not bad', 'it was good'], student: 'it was good!', teacher: 'not bad', confidence: 0.5 },
      { input: '4', reference: 'hello world', student: 'hello', teacher: 'hello world', confidence: 0.7 },
    ];
    for (const metric of ['chrf', 'chrf++'] as const) {
      const points = (await calibrationCurve(more, { metric })).curve;
      for (const point of points) {
        const outputs = more.map((row) => (row.confidence !== null && row.confidence >= point.threshold ? row.student : row.teacher));
        expect(point.quality).toBe((await computeMetrics(outputs, more.map((row) => row.reference), [metric]))[metric]);
      }
    }
  });

  it('prices 1,000 calls from the measured tokens and the price table', () => {
    // 5 calls, 1,000 input and 100 output tokens at gpt-4o-mini's $0.15 / $0.60 per 1M:
    // (200 × 0.15 + 20 × 0.60) / 1e6 = $0.000042 a call → $0.042 per 1,000; the cascade sends 20%.
    const cost = cascadeCostPer1000({ teacher: { requests: 5, inputTokens: 1000, outputTokens: 100, costUsd: 0 }, teacherPrice: { inputPer1M: 0.15, outputPer1M: 0.6 }, coverage: 0.8 });
    expect(cost.teacherOnlyUsd).toBeCloseTo(0.042, 10);
    expect(cost.studentOnlyUsd).toBe(0);
    expect(cost.cascadeUsd).toBeCloseTo(0.0084, 10);
    expect(cost.priced).toBe(true);
    const unpriced = cascadeCostPer1000({ teacher: { requests: 5, inputTokens: 1000, outputTokens: 100, costUsd: 0 }, coverage: 0.8 });
    expect(unpriced).toEqual({ teacherOnlyUsd: 0, studentOnlyUsd: 0, cascadeUsd: 0, priced: false });
  });
});


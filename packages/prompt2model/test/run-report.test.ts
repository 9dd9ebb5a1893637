import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleCascadeCalibration } from '@prompt2model/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRunReport, writeRunReport } from '../src/run/report.js';
import { renderReportHtml } from '../src/run/report-html.js';
import { renderReportMarkdown } from '../src/run/report-markdown.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function runFolder(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-report-'));
  dirs.push(dir);
  for (const [name, value] of Object.entries(files)) await writeFile(join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  return dir;
}

describe('the run report', () => {
  it("shows what later stages add when present: label noise, retrieved data, the ONNX export and model card", async () => {
    const dir = await runFolder({
      'prompt-spec.json': { instruction: 'Classify the review.', examples: [{ input: 'a', output: 'positive' }], language: 'en', taskType: 'classification', labels: ['positive', 'negative'] },
      'generation-summary.json': { count: 3, target: 3, stoppedBy: 'target', candidates: 5, rejected: { duplicate: 2 }, labelNoise: { estimatedNoise: 0.042, expectedAccuracy: 0.971 } },
      'retrieved-summary.json': { count: 7, datasets: ['imdb'] },
      'dataset.jsonl': ['{"input":"x","output":"positive","meta":{"agreement":1}}', '{"input":"y","output":"negative","meta":{"agreement":0.667}}', '{"input":"z","output":"positive","meta":{"agreement":1}}'].join('\n') + '\n',
      'splits.json': { train: 'train.jsonl', counts: { train: 8, validation: 1, test: 1 } },
      'models.json': [{ id: 'acme/t5-small', score: 3.5, architecture: 'encoder-decoder', sizeBytes: 240_000_000, downloads: 10 }],
      'trained-model.json': { backend: 'local', reference: '/m/merged', kind: 'local-folder', baseModel: 'acme/t5-small', method: 'lora', artifacts: { merged: '/m/merged', onnx: '/m/onnx' }, metrics: {} },
      'eval-report.json': { metrics: { exact_match: 0.5 }, count: 2, model: '/m/merged', latencyMsPerExample: 3, costPer1000Usd: 0, createdAt: 'now' },
      'teacher-eval-report.json': { metrics: { exact_match: 1 }, count: 2, model: 'gpt-4o-mini', latencyMsPerExample: 300, costPer1000Usd: 0.07, createdAt: 'now' },
      'run-record.json': { spending: { generate: { paidCalls: 4, cachedCalls: 1, inputTokens: 100, outputTokens: 20, usd: 0.001 } }, loss: [{ step: 1, loss: 2 }, { step: 2, loss: 1 }] },
      'estimate.json': { stages: [{ stage: 'generate (inputs)', usd: 0.0004 }, { stage: 'generate (labels)', usd: 0.0005 }], totalUsd: 0.0009 },
      'manifest.json': { version: 1, createdAt: 'now', updatedAt: 'now', config: {}, stages: { generate: { status: 'done' } }, cost: { usd: 0.001, inputTokens: 100, outputTokens: 20 } },
    });
    const report = await buildRunReport(dir, { maxCostUsd: 1 });
    expect(report.data?.labelNoise).toEqual({ estimatedNoise: 0.042, expectedAccuracy: 0.971 });
    expect(report.data?.retrieved).toEqual({ count: 7, extra: { datasets: ['imdb'] } });
    expect(report.data?.agreementHistogram?.[9]).toBe(2);
    expect(report.data?.agreementHistogram?.[6]).toBe(1);
    expect(report.training?.artifacts).toMatchObject({ merged: '/m/merged', onnx: '/m/onnx' });
    expect(report.cost.byStage.find((stage) => stage.stage === 'generate')).toMatchObject({ usd: 0.001, estimateUsd: 0.0009 });

    const markdown = renderReportMarkdown(report);
    // Without vote counts the accuracy figure is not shown bare.
    expect(markdown).toContain('Label noise (estimated from vote agreement): 4.2% of label samples; the accuracy of the kept labels cannot be estimated');
    expect(markdown).not.toContain('97.1%');
    expect(markdown).toContain('Retrieved from datasets: 7.');
    expect(markdown).toContain('- onnx: `/m/onnx`');
    expect(markdown).toMatch(/\| exact_match \(primary\) \| 1\.0000 \| 0\.5000 \|/);
    expect(markdown).toMatch(/\| \$ per 1,000 calls \| \$0\.0700 \| \$0\.0000 \|/);

    const html = renderReportHtml(report);
    expect(html).toContain('expected label accuracy');
    expect(html).toContain('aria-label="training loss curve"');
    expect(html).toContain('aria-label="agreement histogram"');
    expect(html).not.toMatch(/<script|<link|src="http/);

    const paths = await writeRunReport(dir, report);
    expect(paths.html).toBe(join(dir, 'report.html'));
  });

  it('cannot flatter a bad student: leads with exact match, says "not usable", shows failing answers, an interval on label accuracy and why training stopped', async () => {
    // A date-normalisation task (free-text task type, short exact-format references) where the
    // evaluator computed only chrF++: 31 test rows, the student gets none exactly, the teacher 30.
    const references = Array.from({ length: 31 }, (_, i) => `2024-03-${String(i + 1).padStart(2, '0')}`);
    const inputs = references.map((_, i) => `March ${i + 1}, 2024`);
    const studentRows = references.map((reference, i) => ({ input: inputs[i], reference, prediction: i === 0 ? '<script>alert(1)</script> | **x**' : `2024-3-${i + 1}` }));
    const teacherRows = references.map((reference, i) => ({ input: inputs[i], reference, prediction: i === 30 ? '2024-03-30' : reference }));
    const dir = await runFolder({
      'prompt-spec.json': { instruction: 'Rewrite the date as YYYY-MM-DD.', examples: [{ input: 'May 2, 2020', output: '2020-05-02' }], language: 'en', taskType: 'generation' },
      'generation-summary.json': {
        count: 200,
        target: 200,
        stoppedBy: 'target',
        candidates: 240,
        rejected: {},
        labelNoise: { estimatedNoise: 0.01, expectedAccuracy: 0.983, answerConcentration: 0.5, inputsVoted: 200, votesPerInput: 3, firstRoundVotes: 600, firstRoundDisagreeing: 6 },
      },
      'trained-model.json': {
        backend: 'local',
        reference: '/m/merged',
        kind: 'local-folder',
        baseModel: 'acme/t5-small',
        method: 'lora',
        artifacts: {},
        metrics: { global_step: 120, max_steps: 300, stopped_early: 1, epoch: 2 },
      },
      'eval-report.json': { metrics: { chrf: 20.3 }, count: 31, model: '/m/merged', createdAt: 'now', perExample: studentRows },
      'teacher-eval-report.json': { metrics: { chrf: 98.3 }, count: 31, model: 'gpt-4o-mini', createdAt: 'now', perExample: teacherRows },
    });
    const report = await buildRunReport(dir);
    expect(report.evaluation?.primaryMetric).toBe('exact_match');
    expect(report.evaluation?.student.metrics.exact_match).toBe(0);
    expect(report.evaluation?.teacher?.metrics.exact_match).toBeCloseTo(30 / 31, 6);
    expect(report.verdict).toMatchObject({ level: 'unusable', metric: 'exact_match' });
    expect(report.verdict?.text).toBe('The student is not usable: exact match 0% vs the teacher\'s 97% (below the floor of exact match 50%).');
    expect(report.evaluation?.samples).toHaveLength(5);
    expect(report.evaluation?.samples.every((row) => !row.exact)).toBe(true);
    expect(report.evaluation?.samples[0]).toMatchObject({ reference: '2024-03-01', teacher: '2024-03-01', exact: false });
    const accuracy = report.data?.labelAccuracy;
    expect(accuracy && 'low' in accuracy ? [accuracy.low, accuracy.high] : []).toEqual([expect.closeTo(0.954, 3), expect.closeTo(0.9938, 3)]);
    expect(report.training?.stopReason).toBe('early stopping: the validation loss stopped improving at step 120 of 300 planned, epoch 2.00');

    const markdown = renderReportMarkdown(report);
    const lines = markdown.split('\n');
    expect(lines[2]).toBe("**The student is not usable: exact match 0% vs the teacher's 97% (below the floor of exact match 50%).**");
    // The table leads with exact match; chrF++ follows.
    const table = lines.filter((line) => /^\| (exact_match|chrf)/.test(line));
    expect(table).toEqual(['| exact_match (primary) | 0.9677 | 0.0000 |', '| chrf | 98.30 | 20.30 |']);
    expect(markdown).toContain('| March 1, 2024 | 2024-03-01 | &lt;script&gt;alert(1)&lt;/script&gt; \\| \\*\\*x\\*\\* | 2024-03-01 | no |');
    expect(markdown).not.toContain('<script');
    expect(markdown).toContain('expected accuracy of the kept labels 98.3% (95% Wilson interval 95.4–99.4% over 200 voted inputs)');
    expect(markdown).toContain('Training ended: early stopping: the validation loss stopped improving at step 120 of 300 planned, epoch 2.00.');

    const html = renderReportHtml(report);
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.indexOf('The student is not usable')).toBeLessThan(html.indexOf('<h2>'));
    expect(html).toContain('exact match 0%</b><span>student, the primary metric (teacher exact match 97%)');
    expect(html).toContain('95% Wilson interval 95.4–99.4%');
    expect(html).toContain('Training ended: early stopping');
    expect(html).toContain('Sample of the test set (5 rows, failures first)');
  });

  it('states the thresholds of the verdict and says "not recorded" when the worker kept no stop reason', async () => {
    const { judge, stopReason, VERDICT_THRESHOLDS } = await import('../src/run/report.js');
    const { labelAccuracy } = await import('../src/run/label-accuracy.js');
    expect(labelAccuracy({ expectedAccuracy: 0.9 })).toEqual({ unknown: 'cannot be estimated: the generator recorded no vote counts' });
    expect(judge('exact_match', 0.9, 0.92).level).toBe('matches');
    expect(judge('exact_match', 0.8, 0.92).level).toBe('gap');
    expect(judge('exact_match', 0.6, 0.92).level).toBe('unusable');
    expect(judge('chrf', 60, undefined).level).toBe('unknown');
    expect(judge('chrf', 30, undefined).level).toBe('unusable');
    expect(VERDICT_THRESHOLDS.matchesRatio).toBeGreaterThan(VERDICT_THRESHOLDS.usableRatio);
    expect(stopReason({})).toBe('not recorded');
    expect(stopReason({ global_step: 300, max_steps: 300, epoch: 3 })).toBe('all planned steps ran (300 of 300, epoch 3.00)');
  });

  it('shows the cascade: a short coverage-quality table with the chosen threshold, and the cost per 1,000 calls of each way of answering', async () => {
    // The curve of the calibration-math test: 5 validation rows, exact match; gpt-4o-mini priced
    // from 1,000 input and 100 output tokens over 5 calls = $0.042 per 1,000, the cascade 20% of it.
    const calibration = sampleCascadeCalibration({ student: { model: '/m/onnx', quality: 0.6, costPer1000Usd: 0 } });
    const dir = await runFolder({ 'calibration.json': calibration, 'prompt-spec.json': { instruction: 'Label it.', examples: [], language: 'en' } });
    const report = await buildRunReport(dir);
    expect(report.cascade?.curve.map((row) => [row.threshold, row.chosen])).toEqual([[0.4, true], [0.6, false], [0.8, false], [0.9, false]]);
    const markdown = renderReportMarkdown(report);
    expect(markdown).toContain('## Cascade: student first, teacher when unsure');
    expect(markdown).toContain('| 0.4000 (chosen) | 80% | 0.8000 | 100% |');
    expect(markdown).toContain('| 0.6000 | 60% | 0.6000 | 75% |');
    expect(markdown).toContain('| teacher only | 0% | 0.8000 | 100% |');
    expect(markdown).toContain('Chosen threshold 0.4000: the student answers 80% of calls at 100% of the teacher\'s quality (target 99%).');
    expect(markdown).toContain('Expected cost per 1,000 calls: teacher only $0.0420, student only $0.0000 (local compute not priced), cascade $0.0084 (the teacher\'s measured cost × the 20% of calls sent to it).');
    expect(markdown).toContain('Measured on 5 validation examples the student was not trained on');
    const html = renderReportHtml(report);
    expect(html).toContain('<h2>Cascade: student first, teacher when unsure</h2>');
    expect(html).toContain('<td class="n">80%</td>');
    expect(html).not.toMatch(/<script/);
    // The chosen threshold checked on the test set (not used to choose it): rows 1-3 are at or
    // above 0.4 (student: right, right, wrong), row 4 goes to the teacher (right): 3 of 4 right
    // against the teacher's 4 of 4.
    const tested = await buildRunReport(
      await runFolder({
        'calibration.json': calibration,
        'eval-report.json': { metrics: { exact_match: 0.5 }, count: 4, createdAt: 'now', perExample: [['a', 'a', 0.9], ['b', 'b', 0.5], ['c', 'x', 0.45], ['d', 'y', 0.1]].map(([reference, prediction, confidence]) => ({ input: String(reference), reference, prediction, confidence })) },
        'teacher-eval-report.json': { metrics: { exact_match: 1 }, count: 4, createdAt: 'now', perExample: ['a', 'b', 'c', 'd'].map((reference) => ({ input: reference, reference, prediction: reference })) },
      }),
    );
    expect(tested.cascade?.test).toEqual({ count: 4, coverage: 0.75, quality: 0.75, relativeQuality: 0.75 });
    expect(renderReportMarkdown(tested)).toContain("On the 4 test examples, which took no part in the choice, the same threshold lets the student answer 75% of calls at 75% of the teacher's quality.");
    // No threshold keeps the teacher's quality: every call goes to the teacher.
    const none = await buildRunReport(await runFolder({ 'calibration.json': { ...calibration, chosen: { threshold: null, coverage: 0, quality: 0.8, relativeQuality: 1 }, costPer1000: { ...calibration.costPer1000, cascadeUsd: 0.042 } } }));
    expect(renderReportMarkdown(none)).toContain("No threshold keeps 99% of the teacher's quality: the cascade sends every call to the teacher.");
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(markdown).toContain('Label noise (estimated from vote agreement): 4.2% of label samples; expected accuracy of the kept labels 97.1%');
    expect(markdown).toContain('Retrieved from datasets: 7.');
    expect(markdown).toContain('- onnx: `/m/onnx`');
    expect(markdown).toMatch(/\| exact_match \| 1\.0000 \| 0\.5000 \|/);
    expect(markdown).toMatch(/\| \$ per 1,000 calls \| \$0\.0700 \| \$0\.0000 \|/);

    const html = renderReportHtml(report);
    expect(html).toContain('expected label accuracy');
    expect(html).toContain('aria-label="training loss curve"');
    expect(html).toContain('aria-label="agreement histogram"');
    expect(html).not.toMatch(/<script|<link|src="http/);

    const paths = await writeRunReport(dir, report);
    expect(paths.html).toBe(join(dir, 'report.html'));
  });
});

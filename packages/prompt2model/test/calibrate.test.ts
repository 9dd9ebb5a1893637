import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinySeq2Seq, lastUserText, SENTIMENT_LABELS, lastKeywordSentiment, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunReport, writeRunReport } from '../src/run/report.js';
import { runCliCaptured } from './support/run-cli.js';

let root: string;
let server: OpenAICompatibleServer;

const teacherLabel = lastKeywordSentiment;

const validation = ['a great film', 'an awful boring film', 'great plot but awful acting', 'bad start but good ending', 'a good good movie'];

/** A finished run folder: a tiny ONNX student (keyword votes: ties are unsure), the task, a validation split. */
async function runFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await buildTinySeq2Seq(join(dir, 'model'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  const files: Record<string, unknown> = {
    'prompt-spec.json': { instruction: 'Classify the sentiment.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en', taskType: 'classification' },
    'trained-model.json': { backend: 'local', reference: 'model', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: { onnx: 'model' }, metrics: {} },
    'splits.json': { train: 'train.jsonl', validation: 'validation.jsonl', test: 'test.jsonl', counts: { train: 0, validation: validation.length, test: 0 } },
    'manifest.json': { version: 1, createdAt: 'now', updatedAt: 'now', config: { command: 'run', teacher: 'gpt-4o-mini' }, stages: {} },
  };
  for (const [file, value] of Object.entries(files)) await writeFile(join(dir, file), JSON.stringify(value));
  await writeFile(join(dir, 'validation.jsonl'), validation.map((input) => JSON.stringify({ input, output: teacherLabel(input) })).join('\n') + '\n');
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-calibrate-cli-'));
  server = await startOpenAICompatibleServer({ respond: (request) => teacherLabel(lastUserText(request)) });
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const env = (cache: string) => ({ OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: server.url, P2M_CACHE_DIR: join(root, cache) });

describe('prompt2model calibrate RUN', () => {
  it('prices the teacher calls first, calibrates, and rewrites calibration.json, the report and the model card; a rerun pays nothing', async () => {
    const dir = await runFolder('run');
    await writeRunReport(dir, await buildRunReport(dir));
    server.reset();
    const estimate = await runCliCaptured(['calibrate', dir, '--estimate-only', '--json'], env('cache-a'));
    expect(estimate.code).toBe(0);
    expect(JSON.parse(estimate.stdout)).toMatchObject({ teacher: 'gpt-4o-mini', requests: 5, priced: true });
    expect(server.stats.completed).toBe(0);

    const first = await runCliCaptured(['calibrate', dir], env('cache-a'));
    expect(first.stderr).toMatch(/^Calibration: 5 teacher calls to gpt-4o-mini \(one per validation example\), at most \$0\.0000\d\d/m);
    expect(first.code).toBe(0);
    expect(server.stats.completed).toBe(5);
    expect(first.stdout).toMatch(/Cascade calibrated on 5 validation examples \(exact_match: teacher 1\.0000/);
    expect(first.stdout).toMatch(/the student answers 60% of calls/);
    const saved = JSON.parse(await readFile(join(dir, 'calibration.json'), 'utf8'));
    expect(saved).toMatchObject({ heldOut: { split: 'validation', file: 'validation.jsonl', count: 5 }, metric: 'exact_match', targetQuality: 0.99, chosen: { coverage: 0.6, quality: 1 } });
    expect(saved.costPer1000.cascadeUsd).toBeCloseTo(saved.costPer1000.teacherOnlyUsd * 0.4, 12);

    const markdown = await readFile(join(dir, 'report.md'), 'utf8');
    expect(markdown).toContain('## Cascade: student first, teacher when unsure');
    expect(markdown).toMatch(/\| teacher only \| 0% \| 1\.0000 \| 100% \|/);
    expect(markdown).toMatch(/Expected cost per 1,000 calls: teacher only \$0\.\d{4}, student only \$0\.0000 \(local compute not priced\), cascade \$0\.\d{4}/);
    const card = await readFile(join(dir, 'model', 'README.md'), 'utf8');
    expect(card).toContain('## Cascade with the teacher');
    expect(card).toMatch(/this model answers 60% of calls/);
    const record = JSON.parse(await readFile(join(dir, 'run-record.json'), 'utf8'));
    expect(record.spending.calibrate).toMatchObject({ paidCalls: 5 });

    // The same command again: the step is done, nobody is called.
    const again = await runCliCaptured(['calibrate', dir, '--json'], env('cache-a'));
    expect(again.code).toBe(0);
    expect(server.stats.completed).toBe(5);
    // A new target redoes the step from the LLM cache: still no new call.
    const stricter = await runCliCaptured(['calibrate', dir, '--target-quality', '1', '--json'], env('cache-a'));
    expect(stricter.code).toBe(0);
    expect(JSON.parse(stricter.stdout).calibration).toMatchObject({ targetQuality: 1, teacher: { cachedRequests: 5 } });
    expect(server.stats.completed).toBe(5);
  });

  it('stops at --max-cost (exit 3) and, rerun with more budget, pays only for the calls it had not made', async () => {
    const dir = await runFolder('capped');
    server.reset();
    const capped = await runCliCaptured(['calibrate', dir, '--max-cost', '0.000001', '--no-preflight'], env('cache-b'));
    expect(capped.stderr).toMatch(/over --max-cost/);
    expect(capped.code).toBe(3);
    expect(existsSync(join(dir, 'calibration.json'))).toBe(false);
    const paidBefore = server.stats.completed;
    expect(paidBefore).toBeLessThan(5);
    const resumed = await runCliCaptured(['calibrate', dir, '--no-preflight', '--json'], env('cache-b'));
    expect(resumed.code).toBe(0);
    expect(server.stats.completed).toBe(5);
  });

  it('says what is missing in a folder that has no trained model or no validation split', async () => {
    const empty = join(root, 'empty');
    await runFolder('empty');
    await rm(join(empty, 'trained-model.json'));
    const untrained = await runCliCaptured(['calibrate', empty], env('cache-c'));
    expect(untrained.code).toBe(2);
    expect(untrained.stderr).toMatch(/has no trained model/);
    const dir = await runFolder('no-validation');
    await writeFile(join(dir, 'splits.json'), JSON.stringify({ train: 'train.jsonl', counts: { train: 3, validation: 0, test: 0 } }));
    const none = await runCliCaptured(['calibrate', dir], env('cache-c'));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/has no validation examples/);
  });
});

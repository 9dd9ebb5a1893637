import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinySeq2Seq, lastUserText, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';

let root: string;
let modelDir: string;
let server: OpenAICompatibleServer;

const run = runCliCaptured;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-eval-cli-'));
  modelDir = (await buildTinySeq2Seq(join(root, 'model'), { answers: { hello: 'bonjour', dog: 'chien' } })).dir;
  server = await startOpenAICompatibleServer({ respond: (request) => (lastUserText(request).includes('dog') ? 'chien' : 'bonjour') });
  await writeFile(join(root, 'test.jsonl'), ['{"input":"hello world","output":"bonjour"}', '{"input":"dog","output":"chien"}', '{"input":"the cat","output":"chat"}'].join('\n'));
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('prompt2model eval', () => {
  it('scores JSON Lines predictions against references (Prompt2Model reference numbers)', async () => {
    await writeFile(join(root, 'pred.jsonl'), '"The cat is sleeping."\n{"prediction":"The dog is barking."}\n');
    await writeFile(join(root, 'ref.jsonl'), '{"output":"The cat is sleeping."}\n["The dog is playing."]\n');
    const { code, stdout, stderr } = await run(['eval', '--predictions', join(root, 'pred.jsonl'), '--references', join(root, 'ref.jsonl'), '--metrics', 'em,chrf++', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { metrics: Record<string, number>; count: number };
    expect(result.count).toBe(2);
    expect(result.metrics.exact_match).toBe(0.5);
    expect(Math.abs(result.metrics['chrf++']! - 78.29773360712932)).toBeLessThan(1e-6);
  });

  it('reads plain text lines and prints a human summary', async () => {
    await writeFile(join(root, 'pred.txt'), 'Santa Clara\nVistula\nN/A\nprint(settings.DATABASES)\n');
    await writeFile(join(root, 'ref.txt'), 'Santa Clara\nVistula River\n2013-10-25\nprint(settings.DATABASES)\n');
    const { code, stdout } = await run(['eval', '--predictions', join(root, 'pred.txt'), '--references', join(root, 'ref.txt'), '--metrics', 'chrf++,em']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/chrf\+\+\s+76\.06/);
    expect(stdout).toMatch(/exact_match\s+0\.5000/);
    expect(stdout).toMatch(/examples\s+4/);
  });

  it('rejects mismatched files and unknown metrics with a usage exit code', async () => {
    await writeFile(join(root, 'one.txt'), 'a\n');
    const mismatch = await run(['eval', '--predictions', join(root, 'pred.txt'), '--references', join(root, 'one.txt')]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/4 predictions in .* but 1 references in /);
    const unknown = await run(['eval', '--predictions', join(root, 'pred.txt'), '--references', join(root, 'ref.txt'), '--metrics', 'bleu']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bleu: unknown metric/);
    const nothing = await run(['eval']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('hint: Pass --predictions FILE --references FILE');
  });

  it('runs a local ONNX model over --data first, and saves its predictions', async () => {
    const saved = join(root, 'predictions.jsonl');
    const { code, stdout, stderr } = await run([
      'eval', '--model', modelDir, '--data', join(root, 'test.jsonl'), '--metrics', 'em', '--save-predictions', saved, '--out', join(root, 'run-local'), '--json',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { metrics: Record<string, number>; count: number; model: string; costPer1000Usd: number };
    expect(report.metrics.exact_match).toBeCloseTo(2 / 3, 12);
    expect(report.count).toBe(3);
    expect(report.costPer1000Usd).toBe(0);
    const rows = (await readFile(saved, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { prediction: string });
    expect(rows.map((row) => row.prediction)).toEqual(['bonjour', 'chien', 'the']);
  });

  it('runs an OpenAI-compatible endpoint and compares teacher and student', async () => {
    const api = await run([
      '--base-url', server.url, 'eval', '--model', 'openai:gpt-4o-mini', '--data', join(root, 'test.jsonl'), '--metrics', 'em', '--out', join(root, 'run-api'), '--json',
    ]);
    expect(api.code).toBe(0);
    expect((JSON.parse(api.stdout) as { metrics: Record<string, number> }).metrics.exact_match).toBeCloseTo(2 / 3, 12);
    const compare = await run([
      '--base-url', server.url, '--teacher', 'gpt-4o-mini', 'eval', '--model', modelDir, '--data', join(root, 'test.jsonl'), '--metrics', 'em,chrf++', '--compare-teacher', '--out', join(root, 'run-compare'),
    ]);
    expect(compare.code).toBe(0);
    expect(compare.stdout).toContain('| | teacher (gpt-4o-mini) | student (');
    expect(compare.stdout).toMatch(/\| exact_match \| 0\.6667 \| 0\.6667 \|/);
  });

  it('runs a Hugging Face endpoint (TGI speaks the OpenAI chat protocol) through @huggingface/inference', async () => {
    const { code, stdout, stderr } = await run(
      ['eval', '--model', 'hf:tgi', '--data', join(root, 'test.jsonl'), '--metrics', 'em', '--out', join(root, 'run-hf'), '--json'],
      { HF_ENDPOINT_URL: server.url.replace(/\/v1$/, ''), HF_TOKEN: 'hf_test' },
    );
    // A self-hosted endpoint has no list price: the ledger says so once.
    expect(stderr).toMatch(/^warning: No price known for model "tgi"/);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { metrics: Record<string, number>; model: string }).model).toBe('tgi');
  });

  it('skips default BERTScore for free text when no encoder is available, with a warning', async () => {
    const { code, stdout, stderr } = await run(['eval', '--predictions', join(root, 'pred.txt'), '--references', join(root, 'ref.txt'), '--task-type', 'generation', '--json']);
    expect(code).toBe(0);
    expect(Object.keys((JSON.parse(stdout) as { metrics: Record<string, number> }).metrics)).toEqual(['chrf++']);
    expect(stderr).toMatch(/warning: BERTScore skipped/);
  });

  it('says what --model accepts when it is neither a folder nor a known prefix', async () => {
    const { code, stderr } = await run(['eval', '--model', join(root, 'missing'), '--data', join(root, 'test.jsonl')]);
    expect(code).toBe(2);
    expect(stderr).toContain('openai:<model-id>');
  });
});

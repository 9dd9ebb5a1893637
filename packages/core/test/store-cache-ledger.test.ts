import { mkdtemp, readFile, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  APICallError,
  BudgetExceededError,
  CostLedger,
  JsonlWriter,
  LLMCallCache,
  Prompt2ModelError,
  RunStore,
  ValidationError,
  createStageContext,
  llmCacheKey,
  readJsonlAll,
  redactSecrets,
  repairJsonlTail,
  runStep,
  splitExamples,
} from '../src/internal.js';
import { z } from 'zod';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-core-'));
  dirs.push(dir);
  return dir;
}

describe('errors', () => {
  it('isInstance works by marker, across copies', () => {
    const error = new APICallError({ message: 'x', statusCode: 429 });
    expect(APICallError.isInstance(error)).toBe(true);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect(ValidationError.isInstance(error)).toBe(false);
    const lookalike = Object.assign(new Error('copy'), { [Symbol.for('prompt2model.error')]: true });
    expect(Prompt2ModelError.isInstance(lookalike)).toBe(true);
    expect(error.isRetryable).toBe(true);
    expect(new APICallError({ message: 'x', statusCode: 404 }).isRetryable).toBe(false);
  });

  it('ValidationError names the field and the subject', () => {
    const parsed = z.object({ input: z.string() }).safeParse({ input: 3 });
    const error = ValidationError.fromZod('train.jsonl line 4', parsed.error!);
    expect(error.message).toContain('train.jsonl line 4');
    expect(error.message).toContain('input');
  });

  it('redacts keys and tokens', () => {
    const text = redactSecrets('key sk-fake-abcdefghijklm and hf_fakeabcdefghij, Authorization: Bearer xyz123');
    expect(text).not.toMatch(/sk-fake|hf_fake|xyz123/);
  });
});

describe('LLMCallCache', () => {
  it('keys include the sample index and ignore the abort signal', () => {
    const request = { messages: [{ role: 'user' as const, content: 'x' }] };
    const base = { provider: 'p', modelId: 'm', request };
    expect(llmCacheKey({ ...base, sampleIndex: 0 })).not.toBe(llmCacheKey({ ...base, sampleIndex: 1 }));
    expect(llmCacheKey(base)).toBe(llmCacheKey({ ...base, request: { ...request, abortSignal: new AbortController().signal } }));
  });

  it('concurrent writes leave whole entries and no temporary files; corrupt entries are misses', async () => {
    const dir = await tempDir();
    const cache = new LLMCallCache(dir);
    const response = (i: number) => ({ choices: [{ text: `t${i}`.repeat(1000), finishReason: 'stop' as const }], usage: { inputTokens: 1, outputTokens: 1 } });
    await Promise.all(Array.from({ length: 50 }, (_, i) => cache.set('aa-same-key', response(i))));
    const hit = await cache.get('aa-same-key');
    expect(hit?.choices[0]!.text).toMatch(/^t\d+/);
    const files = await readdir(join(dir, 'aa'));
    expect(files).toEqual(['aa-same-key.json']);
    await writeFile(join(dir, 'aa', 'aa-same-key.json'), '{"response": {"choi');
    expect(await cache.get('aa-same-key')).toBeUndefined();
  });
});

describe('RunStore and runStep', () => {
  it('resumes: finished steps are loaded, a step left running is redone, secrets stay out of the manifest', async () => {
    const dir = await tempDir();
    const context = await createStageContext({ outDir: dir, config: { teacher: 'm', apiKey: 'sk-fake-abcdefghijklmnop' } });
    let calls = 0;
    const schema = z.object({ value: z.number() });
    const value = await runStep(context, 'first', 'first.json', schema, async () => ({ value: ++calls }));
    expect(value).toEqual({ value: 1 });
    await context.store.startStage('second'); // as if the process died inside it
    const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
    expect(manifestText).not.toContain('sk-fake');

    const again = await createStageContext({ outDir: dir });
    expect(again.store.stage('second')?.status).toBe('pending');
    expect(await runStep(again, 'first', 'first.json', schema, async () => ({ value: ++calls }))).toEqual({ value: 1 });
    expect(calls).toBe(1);
    expect(await runStep(again, 'second', 'second.json', schema, async () => ({ value: 7 }))).toEqual({ value: 7 });
    expect(again.store.isDone('second')).toBe(true);
  });

  it('a failing step is recorded as failed with a redacted message and rethrown', async () => {
    const dir = await tempDir();
    const context = await createStageContext({ outDir: dir });
    await expect(
      runStep(context, 'bad', 'bad.json', z.object({}), async () => {
        throw new Error('boom with sk-fake-abcdefghijklmnop');
      }),
    ).rejects.toThrow('boom');
    const store = await RunStore.open(dir);
    expect(store.stage('bad')?.status).toBe('failed');
    expect(store.stage('bad')?.error).not.toContain('sk-fake');
  });

  it('rejects a damaged manifest with a hint', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'manifest.json'), '{ not json');
    await expect(RunStore.open(dir)).rejects.toSatisfy((e: unknown) => ValidationError.isInstance(e) && /mv .*manifest\.json\.damaged/.test((e as ValidationError).hint ?? ''));
  });

  it('spending recorded by an earlier run counts against the cap after resume', async () => {
    const dir = await tempDir();
    const first = await createStageContext({ outDir: dir, maxCostUsd: 1 });
    first.ledger.record('gpt-4o', { inputTokens: 0, outputTokens: 100_000 }); // $1.00
    await first.store.saveCost(first.ledger.snapshot());
    const second = await createStageContext({ outDir: dir, maxCostUsd: 1 });
    expect(second.ledger.totalUsd).toBeCloseTo(1, 6);
    expect(() => second.ledger.assertCanSpend(0.01)).toThrow(BudgetExceededError);
  });
});

describe('CostLedger', () => {
  it('prices by longest matching prefix, including fine-tuned ids', () => {
    const ledger = new CostLedger();
    expect(ledger.priceFor('gpt-4o-mini-2024-07-18')).toEqual({ inputPer1M: 0.15, outputPer1M: 0.6 });
    expect(ledger.priceFor('ft:gpt-4o-mini-2024-07-18:org::abc')?.inputPer1M).toBe(0.15);
    expect(ledger.priceFor('llama3')).toBeUndefined();
    expect(ledger.costOf('gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBeCloseTo(12.5, 9);
  });

  it('the cap stops spending before a call that would pass it', () => {
    const ledger = new CostLedger({ maxCostUsd: 0.01, prices: { cheap: { inputPer1M: 1, outputPer1M: 1 } } });
    ledger.record('cheap', { inputTokens: 9000, outputTokens: 0 });
    expect(() => ledger.assertCanSpend(0.0005)).not.toThrow();
    expect(() => ledger.assertCanSpend(0.002)).toThrow(/Budget cap reached/);
    expect(ledger.remainingUsd).toBeCloseTo(0.001, 9);
  });
});

describe('JSON Lines', () => {
  it('repairs a truncated tail so appends continue cleanly', async () => {
    const dir = await tempDir();
    const path = join(dir, 'rows.jsonl');
    const writer = await JsonlWriter.open(path);
    await writer.write({ input: 'a', output: '1' });
    await writer.write({ input: 'b', output: '2' });
    await writer.close();
    await appendFile(path, '{"input": "c", "outp');
    expect(await repairJsonlTail(path)).toBe(2);
    const again = await JsonlWriter.open(path);
    await again.write({ input: 'c', output: '3' });
    await again.close();
    expect((await readJsonlAll<{ input: string }>(path)).map((r) => r.input)).toEqual(['a', 'b', 'c']);
  });

  it('reports the file and line of a bad row', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, '{"input":"a","output":"b"}\n{"input": 1}\n');
    await expect(readJsonlAll(path, { schema: z.object({ input: z.string(), output: z.string() }) })).rejects.toThrow(/bad\.jsonl line 2/);
  });
});

describe('splitExamples', () => {
  it('is deterministic and keeps identical inputs in one split', () => {
    const examples = Array.from({ length: 1000 }, (_, i) => ({ input: `q${i % 400}`, output: String(i) }));
    const a = splitExamples(examples, { validation: 0.1, test: 0.1 });
    const b = splitExamples(examples, { validation: 0.1, test: 0.1 });
    expect(a).toEqual(b);
    const trainInputs = new Set(a.train.map((e) => e.input));
    expect(a.test.some((e) => trainInputs.has(e.input))).toBe(false);
    expect(a.test.length).toBeGreaterThan(50);
    expect(a.test.length).toBeLessThan(150);
    expect(() => splitExamples(examples, { validation: 0.6, test: 0.5 })).toThrow(InvalidArgumentError);
  });
});

describe('CostLedger.recordCharge', () => {
  it('adds dollar charges to the total that the cap checks', () => {
    const ledger = new CostLedger({ maxCostUsd: 1 });
    ledger.recordCharge('fine-tuning job ftjob-1', 0.75);
    expect(ledger.totalUsd).toBeCloseTo(0.75, 9);
    expect(() => ledger.assertCanSpend(0.3)).toThrow(BudgetExceededError);
    expect(() => ledger.recordCharge('bad', -1)).toThrow(InvalidArgumentError);
  });
});

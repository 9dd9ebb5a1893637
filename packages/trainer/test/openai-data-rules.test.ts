import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core/internal';
import { OPENAI_DATA_RULES, openAIChatTokenCounter } from '@prompt2model/openai/internal';
import { estimateTrainingCost, parseTrainingJob, validateTrainingData } from '../src/internal.js';
import { tempDir } from './helpers.js';

const rows = (count: number, make: (i: number) => { input: string; output: string }) => Array.from({ length: count }, (_, i) => JSON.stringify(make(i))).join('\n') + '\n';

describe('OpenAI fine-tuning files checked with the model’s tokenizer and limits', () => {
  it('counts CJK with the real tokenizer: an example under gpt-4o-mini’s 65,536 is over gpt-3.5-turbo’s 16,385', async () => {
    const { dir } = await tempDir();
    const train = join(dir, 'train.jsonl');
    // 20,000 varied CJK characters: 5,000 "tokens" at 4 characters a token, really about one a character or more.
    const cjk = Array.from({ length: 20_000 }, (_, k) => String.fromCharCode(0x4e00 + ((k * 7919) % 20_000))).join('');
    await writeFile(train, rows(10, (i) => ({ input: i === 0 ? cjk : `短句 ${i}`, output: '好' })));
    const mini = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', instruction: '分类', data: { train } });
    const summary = await validateTrainingData(mini, OPENAI_DATA_RULES);
    expect(summary.train.maxExampleTokens).toBeGreaterThan(16_385);
    expect(summary.train.maxExampleTokens).toBeLessThan(65_536);
    const gpt35 = parseTrainingJob({ baseModel: 'gpt-3.5-turbo-0125', instruction: '分类', data: { train } });
    const error = await validateTrainingData(gpt35, OPENAI_DATA_RULES).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).issues[0]!.message).toMatch(/gpt-3\.5-turbo-0125 accepts at most 16385 per example/);
  });

  it('estimates the cost from the same counts', async () => {
    const { dir } = await tempDir();
    const train = join(dir, 'train.jsonl');
    const examples = Array.from({ length: 12 }, (_, i) => ({ input: `これはテスト文です ${i}。`, output: 'はい' }));
    await writeFile(train, examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const job = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', instruction: 'Answer.', data: { train }, epochs: 2 });
    const summary = await validateTrainingData(job, OPENAI_DATA_RULES);
    const count = await openAIChatTokenCounter('gpt-4o-mini-2024-07-18');
    const expected = examples.reduce((sum, e) => sum + count([{ role: 'system', content: 'Answer.' }, { role: 'user', content: e.input }, { role: 'assistant', content: e.output }]), 0);
    expect(summary.train.tokens).toBe(expected);
    const estimate = estimateTrainingCost(job, summary, { kind: 'per-token', usdPer1MTokens: 3, wholeEpochs: true });
    expect(estimate.trainedTokens).toBe(expected * 2);
  });

  it('refuses rows with an empty input, with their count (OpenAI flags an empty user message)', async () => {
    const { dir } = await tempDir();
    const train = join(dir, 'train.jsonl');
    await writeFile(train, rows(12, (i) => ({ input: i % 5 === 0 ? '  ' : `text ${i}`, output: 'label' })));
    const job = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', instruction: 'Classify.', data: { train } });
    const error = await validateTrainingData(job, OPENAI_DATA_RULES).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).issues.map((issue) => issue.message).join('\n')).toMatch(/3 of 12 rows have an empty input \(rows 1, 6, 11\).*missing_content/);
  });
});

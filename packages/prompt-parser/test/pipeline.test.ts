import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortError, createStageContext, Pipeline, PromptSpecSchema } from '@prompt2model/core/internal';
import { MockLanguageModel } from '@prompt2model/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createPromptParser, DeterministicPromptParser, LLMPromptParser } from '../src/internal.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-parser-pipeline-'));
  dirs.push(dir);
  return dir;
}

describe('the parsers as pipeline stages', () => {
  it('all implement PromptParser v1', () => {
    for (const parser of [createPromptParser({ env: {} }), new DeterministicPromptParser(), new LLMPromptParser()]) {
      expect(parser.specificationVersion).toBe('v1');
      expect(typeof parser.name).toBe('string');
      expect(typeof parser.parse).toBe('function');
    }
  });

  it('runs as the Pipeline parse step, writing prompt-spec.json, and is not run again on resume', async () => {
    const outDir = await tempDir();
    const teacher = new MockLanguageModel({
      respond: JSON.stringify({ instruction: 'Classify the reply as polite or rude.', examples: [{ input: 'thanks!', output: 'polite' }] }),
    });
    const prompt = 'Classify the reply as polite or rude. For example, "thanks!" is polite.';
    const stages = { promptParser: createPromptParser({ env: {} }) };
    const first = await new Pipeline({ outDir, teacher, cacheDir: false, stages }).run(prompt);
    expect(first.spec).toMatchObject({ instruction: 'Classify the reply as polite or rude.', taskType: 'classification', labels: ['polite', 'rude'] });
    const saved = PromptSpecSchema.parse(JSON.parse(await readFile(join(outDir, 'prompt-spec.json'), 'utf8')));
    expect(saved).toEqual(first.spec);
    expect(teacher.calls).toHaveLength(1);
    const second = await new Pipeline({ outDir, teacher, cacheDir: false, stages }).run(prompt);
    expect(second.spec).toEqual(first.spec);
    expect(teacher.calls).toHaveLength(1);
  });

  it('stops with an AbortError when the run is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const context = await createStageContext({ outDir: await tempDir(), cacheDir: false, signal: controller.signal });
    const error = await createPromptParser({ env: {} }).parse('Translate.\nInput: a\nOutput: b', context).catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});

describe('LLM parser answer checks (MockLanguageModel teacher)', () => {
  it('asks again when the teacher translated a Japanese instruction on its own', async () => {
    const japanese = 'リストを逆順にするPythonコードを書いてください。例えば「[1, 2]」なら「[2, 1]」です。';
    const teacher = new MockLanguageModel({
      respond: [
        JSON.stringify({ instruction: 'Write Python code that reverses a list.', examples: [{ input: '[1, 2]', output: '[2, 1]' }] }),
        JSON.stringify({ instruction: 'リストを逆順にするPythonコードを書いてください。', examples: [{ input: '[1, 2]', output: '[2, 1]' }] }),
      ],
    });
    const context = await createStageContext({ outDir: await tempDir(), teacher, cacheDir: false });
    const result = await new LLMPromptParser().parseDetailed(japanese, context);
    expect(result.llmAttempts).toBe(2);
    expect(result.spec).toMatchObject({ instruction: 'リストを逆順にするPythonコードを書いてください。', language: 'ja' });
    expect(teacher.calls[1]!.messages.at(-1)!.content).toContain("instruction: written in English, but the prompt is in Japanese");
  });
});

describe('context budget in the default parser', () => {
  it('rejects a prompt over half the teacher context window before any call, even with marked examples', async () => {
    const teacher = new MockLanguageModel({ contextWindow: 1000, respond: '{}' });
    const context = await createStageContext({ outDir: await tempDir(), teacher, cacheDir: false });
    const prompt = `Translate to French.\n${'Input: cat\nOutput: chat\n'.repeat(200)}`;
    const error = await createPromptParser({ env: {} }).parse(prompt, context).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/Invalid prompt: about \d+ tokens, over the budget of 500 tokens for teacher mock-model/);
    expect(teacher.calls).toHaveLength(0);
    // An explicit budget wins over the teacher's window.
    const spec = await createPromptParser({ env: {}, maxPromptTokens: 10_000 }).parse(prompt, context);
    expect(spec.examples).toHaveLength(200);
  });
});

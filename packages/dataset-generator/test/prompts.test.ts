import { describe, expect, it } from 'vitest';
import type { PromptSpec } from '@prompt2model/core/internal';
import { buildInputGenerationPrompt, buildLabelPrompt, parseGeneratedCandidates } from '../src/prompts.js';

const spec: PromptSpec = {
  instruction: 'Classify the sentiment of the review.',
  examples: [
    { input: 'Great food!', output: 'positive' },
    { input: 'Cold soup.', output: 'negative' },
  ],
  language: 'en',
  labels: ['positive', 'negative'],
};

describe('prompts', () => {
  it('puts instruction, labels, user and previous examples in the generation prompt', () => {
    const built = buildInputGenerationPrompt({
      spec,
      demonstrations: spec.examples,
      previous: [{ input: 'Nice view.', output: 'positive' }],
      examplesPerChoice: 3,
      maxPromptTokens: 10_000,
    });
    const text = built.messages.map((m) => m.content).join('\n');
    expect(text).toContain('Classify the sentiment');
    expect(text).toContain('"positive", "negative"');
    expect(text).toContain('Great food!');
    expect(text).toContain('Nice view.');
    expect(text).toContain('3 new examples');
    expect(built).toMatchObject({ demonstrationsUsed: 2, previousUsed: 1 });
  });

  it('shrinks the sample to fit the budget, then fails instead of looping', () => {
    const previous = Array.from({ length: 50 }, (_, i) => ({ input: `previous example number ${i} `.repeat(5), output: 'positive' }));
    const built = buildInputGenerationPrompt({ spec, demonstrations: spec.examples, previous, examplesPerChoice: 1, maxPromptTokens: 400 });
    expect(built.previousUsed).toBeLessThan(50);
    expect(built.demonstrationsUsed).toBe(2);
    expect(() =>
      buildInputGenerationPrompt({ spec, demonstrations: spec.examples, previous, examplesPerChoice: 1, maxPromptTokens: 20 }),
    ).toThrow(/budget/);
    expect(() => buildLabelPrompt({ spec, input: 'x'.repeat(4000), demonstrations: spec.examples, maxPromptTokens: 100 })).toThrow(/budget/);
  });

  it('builds the labelling prompt as chat turns', () => {
    const built = buildLabelPrompt({ spec, input: 'Loved it', demonstrations: spec.examples, maxPromptTokens: 1000 });
    expect(built.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(built.messages.at(-1)!.content).toBe('Loved it');
  });

  it('parses the shapes teachers answer with', () => {
    expect(parseGeneratedCandidates('{"examples": [{"input": "a", "output": "b"}, {"nope": 1}]}')).toEqual([{ input: 'a', output: 'b' }]);
    expect(parseGeneratedCandidates('```json\n[{"input": "a"}]\n```')).toEqual([{ input: 'a' }]);
    expect(parseGeneratedCandidates('Sure! {"input": 5, "output": "x"}')).toEqual([{ input: '5', output: 'x' }]);
    expect(parseGeneratedCandidates('not json')).toBeUndefined();
    expect(parseGeneratedCandidates('{"other": 1}')).toBeUndefined();
  });
});

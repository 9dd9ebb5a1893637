import { describe, expect, it } from 'vitest';
import { countTextTokens, openAIChatTokenCounter, openAIEncoder, openAIEncodingOf, openAIExampleTokenLimit } from '../src/openai-fine-tuning-tokens.js';

describe('token counts as OpenAI counts them (gpt-tokenizer)', () => {
  // tiktoken's own published vectors (tests/test_encoding.py in openai/tiktoken).
  it('matches tiktoken: "hello world" in cl100k_base and o200k_base, and a surrogate pair', async () => {
    expect((await openAIEncoder('cl100k_base')).encode('hello world')).toEqual([15339, 1917]);
    expect((await openAIEncoder('o200k_base')).encode('hello world')).toEqual([24912, 2375]);
    expect((await openAIEncoder('cl100k_base')).encode('👍')).toEqual([9468, 239, 235]);
  });

  it('picks each model family’s tokenizer, fine-tuned ids by their base', () => {
    expect(openAIEncodingOf('gpt-4o-mini-2024-07-18')).toBe('o200k_base');
    expect(openAIEncodingOf('gpt-4.1-nano-2025-04-14')).toBe('o200k_base');
    expect(openAIEncodingOf('ft:gpt-4o-mini-2024-07-18:acme::abc123')).toBe('o200k_base');
    expect(openAIEncodingOf('gpt-3.5-turbo-0125')).toBe('cl100k_base');
    expect(openAIEncodingOf('gpt-4-0613')).toBe('cl100k_base');
  });

  it('applies each model’s own per-example limit', () => {
    expect(openAIExampleTokenLimit('gpt-3.5-turbo-0125')).toBe(16_385);
    expect(openAIExampleTokenLimit('gpt-3.5-turbo-0613')).toBe(4_096);
    expect(openAIExampleTokenLimit('gpt-4o-mini-2024-07-18')).toBe(65_536);
    expect(openAIExampleTokenLimit('gpt-4o-2024-08-06')).toBe(65_536);
    expect(openAIExampleTokenLimit('ft:gpt-3.5-turbo-0125:acme::x')).toBe(16_385);
  });

  it('counts a chat example like the cookbook: 3 a message, role and content encoded, 3 priming the reply', async () => {
    const count = await openAIChatTokenCounter('gpt-4o-mini');
    const encoder = await openAIEncoder('o200k_base');
    const messages = [
      { role: 'system', content: 'Classify the sentiment.' },
      { role: 'user', content: '这部电影非常好看，我很喜欢。' },
      { role: 'assistant', content: 'positive' },
    ];
    const expected = 3 + messages.reduce((sum, m) => sum + 3 + encoder.encode(m.role).length + encoder.encode(m.content).length, 0);
    expect(count(messages)).toBe(expected);
    // CJK: far above the 4-characters-a-token estimate.
    const cjk = '天气'.repeat(600);
    expect(count([{ role: 'user', content: cjk }])).toBe(3 + 3 + 1 + encoder.encode(cjk).length);
    expect(encoder.encode(cjk).length).toBeGreaterThan(cjk.length / 4);
  });

  it('counts a long unbroken text in segments within one token a cut of the exact count, never below it', async () => {
    const encoder = await openAIEncoder('o200k_base');
    const texts = ['天气很好'.repeat(1500), 'word '.repeat(2000), 'ab'.repeat(3000)];
    for (const text of texts) {
      const exact = encoder.encode(text).length;
      const segmented = countTextTokens(encoder, text);
      expect(segmented).toBeGreaterThanOrEqual(exact);
      expect(segmented - exact).toBeLessThanOrEqual(Math.ceil(text.length / 2000));
    }
  });
});

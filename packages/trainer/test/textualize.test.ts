import { describe, expect, it } from 'vitest';
import { formatTrainingPrompt } from '@prompt2model/core/internal';
import { formatPrompt, textualize, toChatRow } from '../src/internal.js';

describe('textualize', () => {
  const example = { input: 'The cat sat.', output: 'Le chat était assis.' };
  const instruction = 'Translate English to French.';

  it('builds the reference prompt for encoder-decoder models (the tokenizer adds EOS)', () => {
    expect(textualize(example, { instruction, architecture: 'encoder-decoder' })).toEqual({
      source: '<task 0>Translate English to French.\nExample:\nThe cat sat.\nLabel:\n',
      target: 'Le chat était assis.',
    });
  });

  it('appends EOS to decoder-only training targets only', () => {
    const train = textualize(example, { instruction, architecture: 'decoder-only', eosToken: '</s>' });
    expect(train.source + train.target).toBe(`${formatPrompt(instruction, example.input)}Le chat était assis.</s>`);
    expect(train.target).toBe('Le chat était assis.</s>');
    const test = textualize(example, { instruction, architecture: 'decoder-only', split: 'test' });
    expect(test.target).toBe('Le chat était assis.');
    expect(() => textualize(example, { instruction, architecture: 'decoder-only' })).toThrow(/EOS/);
  });

  it('formats prompts with core\'s formatTrainingPrompt (one definition for training and inference)', () => {
    expect(formatPrompt).toBe(formatTrainingPrompt);
  });

  it('supports multi-task ids and refuses unknown architectures', () => {
    expect(textualize(example, { instruction, architecture: 'encoder-decoder', taskId: 3 }).source.startsWith('<task 3>')).toBe(true);
    expect(() => textualize(example, { instruction, architecture: 'unknown' })).toThrow(/architecture/);
  });

  it('makes chat rows with the instruction as system message', () => {
    expect(toChatRow(example, instruction)).toEqual({
      messages: [
        { role: 'system', content: instruction },
        { role: 'user', content: 'The cat sat.' },
        { role: 'assistant', content: 'Le chat était assis.' },
      ],
    });
    expect(toChatRow(example, '  ').messages).toHaveLength(2);
  });
});

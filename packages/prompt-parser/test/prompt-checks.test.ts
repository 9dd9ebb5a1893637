import { ValidationError } from '@prompt2model/core/internal';
import { describe, expect, it } from 'vitest';
import { checkExamples, checkPromptBudget, checkPromptText } from '../src/prompt-checks.js';

function caught(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    if (ValidationError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('prompt checks', () => {
  it('rejects an empty or blank prompt with a hint showing a good prompt', () => {
    for (const prompt of ['', '   \n\t ']) {
      const error = caught(() => checkPromptText(prompt));
      expect(error.message).toContain('the prompt is empty');
      expect(error.hint).toContain('Input:');
    }
  });

  it('rejects binary data', () => {
    const error = caught(() => checkPromptText('%PDF-1.4\u0000\u0001\u0002binary'));
    expect(error.message).toContain('NUL bytes');
    expect(error.hint).toMatch(/plain-text/);
  });

  it('rejects text decoded with the wrong encoding', () => {
    const utf8AsLatin1 = Buffer.from('Übersetze bitte: „Grüße“ – schöne Tage für Käse und Bären', 'utf8').toString('latin1');
    expect(caught(() => checkPromptText(utf8AsLatin1)).hint).toContain('UTF-8');
    expect(caught(() => checkPromptText('Translate \uFFFD\uFFFD\uFFFD this')).message).toContain('U+FFFD');
  });

  it('rejects a prompt that is mostly an encoded blob', () => {
    const blob = Buffer.alloc(3000, 7).toString('base64');
    expect(caught(() => checkPromptText(`Decode: ${blob}`)).message).toContain('without a space');
  });

  it('accepts normal text and normalises line endings and the BOM', () => {
    expect(checkPromptText('\uFEFFTranslate.\r\nInput: a\r\nOutput: b')).toBe('Translate.\nInput: a\nOutput: b');
    expect(checkPromptText('日本語の文をPythonに変換する。Ünïcödé façade — “quotes”.')).toContain('日本語');
  });

  it('rejects a prompt over the token budget, saying by how much', () => {
    const error = caught(() => checkPromptBudget('x'.repeat(4000), 500, 'gpt-4o-mini'));
    expect(error.message).toContain('about 1000 tokens, over the budget of 500 tokens for teacher gpt-4o-mini');
    expect(error.hint).toContain('Shorten the prompt');
    expect(() => checkPromptBudget('short', 500)).not.toThrow();
    expect(() => checkPromptBudget('x'.repeat(10_000), undefined)).not.toThrow();
  });

  it('rejects examples with an empty output, naming the example', () => {
    const error = caught(() =>
      checkExamples([
        { input: 'cat', output: 'chat' },
        { input: 'dog', output: '  ' },
      ]),
    );
    expect(error.issues).toEqual([{ path: 'examples.1.output', message: 'example 2 (input "dog") has an empty output' }]);
    expect(error.hint).toContain('trailing "Input:"');
  });
});

describe('no false alarms on real text', () => {
  it('accepts prompts in many languages and scripts, with emoji and code', () => {
    for (const text of [
      'Traduza a frase para o inglês: “ação”, “não”, “coração” e “informações”.',
      'Résumez l’article en deux phrases, s’il vous plaît — à rendre déjà très concis.',
      'Hãy dịch câu sau sang tiếng Anh: Tôi đã ăn cơm chưa?',
      'Übersetze: „Grüße aus Köln“ – schön, dass du da bist.',
      '次の文を英語に翻訳してください 🙂 例：「猫が好きです」→ "I like cats"',
      'Write Python: `re.sub(r"\\s+", " ", s)` and `print("\\t")`',
      'Ελληνικά: Μετάφρασε την πρόταση στα αγγλικά.',
      'https://example.com/' + 'a'.repeat(300) + ' is the page to summarise, in three sentences.',
    ]) {
      expect(() => checkPromptText(text), text).not.toThrow();
    }
  });
});

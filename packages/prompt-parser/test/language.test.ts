import { readFixture, readJsonFixture } from '@prompt2model/testing/fixtures';
import { describe, expect, it } from 'vitest';
import { detectLanguage, toIso6391 } from '../src/language.js';

const mconala = readJsonFixture<Array<{ rewritten_intent: string | null; intent: string }>>('tasks/mconala/ja_test.json');

describe('detectLanguage', () => {
  it('detects a Japanese instruction as Japanese, even when it names Python or code', () => {
    for (const text of [
      '与えられた日本語の指示に従って、Pythonのコードを生成してください。',
      'Pythonのコードを書く',
      '文字列を逆順にする',
      '`df`のカラム名をリストで取得する',
    ]) {
      expect(detectLanguage(text), text).toMatchObject({ language: 'ja', iso6393: 'jpn', method: 'script' });
    }
  });

  it('detects every MCoNaLa intent (real Japanese NL-to-Python requests) as Japanese', () => {
    const intents = mconala.map((row) => row.rewritten_intent ?? row.intent).filter((text) => text && text.trim() !== '');
    expect(intents.length).toBeGreaterThan(100);
    const wrong = intents.filter((text) => detectLanguage(text).language !== 'ja');
    expect(wrong).toEqual([]);
  });

  it('detects short English instructions as English rather than Scots, French or Catalan', () => {
    for (const text of [
      'Translate the sentence into French.',
      'Given a question, write the Python code.',
      'Convert natural language queries to SQL statements',
      'Summarize news articles',
      'Detect toxic comments',
      'Classify the sentiment of the review as positive or negative.',
    ]) {
      expect(detectLanguage(text).language, text).toBe('en');
    }
  });

  it('detects real English sentences (ViGGO) as English, at least 99% of them', () => {
    const sentences = readFixture('tasks/viggo/valid.csv')
      .split('\n')
      .slice(1)
      .map((row) => /^"[^"]+","?(.*?)"?$/.exec(row)?.[1])
      .filter((text): text is string => Boolean(text));
    expect(sentences.length).toBeGreaterThan(500);
    const english = sentences.filter((text) => detectLanguage(text).language === 'en').length;
    expect(english / sentences.length).toBeGreaterThanOrEqual(0.99);
  });

  it('detects other languages by script or trigrams', () => {
    expect(detectLanguage('Traduza a frase para o inglês, por favor.').language).toBe('pt');
    expect(detectLanguage('把下面的句子翻译成英文。').language).toBe('zh');
    expect(detectLanguage('다음 문장을 영어로 번역하세요.').language).toBe('ko');
    expect(detectLanguage('Переведите предложение на английский язык.').language).toBe('ru');
    expect(detectLanguage('Перекладіть речення англійською мовою, будь ласка.').language).toBe('uk');
    expect(detectLanguage('Übersetze den folgenden Satz ins Englische und achte auf die Grammatik.').language).toBe('de');
    expect(detectLanguage("Traduisez la phrase en anglais, s'il vous plaît, et gardez le ton.").language).toBe('fr');
    expect(detectLanguage('Traduce la siguiente frase al inglés, por favor.').language).toBe('es');
  });

  it('ignores code spans, URLs and placeholders', () => {
    expect(detectLanguage('`print(x)` https://example.com/docs {input} を実行する').language).toBe('ja');
  });

  it('says und when there is too little text', () => {
    expect(detectLanguage('Summarize.')).toMatchObject({ language: 'und', method: 'too-short' });
    expect(detectLanguage('1234 !!!')).toMatchObject({ language: 'und' });
  });

  it('maps ISO 639-3 to 639-1 and keeps codes without a 639-1 form', () => {
    expect(toIso6391('jpn')).toBe('ja');
    expect(toIso6391('cmn')).toBe('zh');
    expect(toIso6391('sco')).toBe('sco');
  });
});

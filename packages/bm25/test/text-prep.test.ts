import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cardTextPrep } from '../src/index.js';

// The card-v1 tokenizer as it was written before the hand-written scanner: the reference.
const require = createRequire(import.meta.url);
const porter2Stem = require('wink-porter2-stemmer') as (word: string) => string;
const stopWords = new Set(require('wink-nlp-utils/src/dictionaries/stop_words.json') as string[]);
function reference(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length >= 2 && !stopWords.has(word) && !/^\p{N}+$/u.test(word))
    .map((word) => porter2Stem(word));
}

describe('card-v1 text preparation', () => {
  const [tokenize] = cardTextPrep.tasks() as [(text: string) => string[]];

  it('gives the tokens of the regular-expression tokenizer it replaced', () => {
    const tricky = [
      '',
      'plain ascii words, with-punctuation_and 123 numbers!',
      'café naïve (precomposed) and cafe\u0301 (combining mark: not a letter)',
      '日本語のテキスト・中文 한국어 русский العربية ١٢٣ ٣ digits',
      'astral letters 𝐀𝐁𝐂 and emoji 😀 between 𝑥y𝑧',
      'lone surrogates \ud800 here \udc00 and at the end \ud83d',
      '\ud83d\ude00start and end\ud835\udc00',
      'ⅻ roman numeral (Nl), ½ (No), ² (No)',
      'tab\tnewline\nnbsp\u00a0zero-width\u200bjoiner\u200d İSTANBUL ΣΊΣΥΦΟΣ',
    ];
    for (const text of tricky) expect(tokenize(text)).toEqual(reference(text));
    // Random strings over ASCII, Latin-1, combining marks, Arabic digits, CJK, surrogates and number letters.
    let state = 5;
    const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const pools = [[0x20, 0x7e], [0x61, 0x7a], [0xa0, 0xff], [0x300, 0x36f], [0x660, 0x669], [0x4e00, 0x4e40], [0xd800, 0xdbff], [0xdc00, 0xdfff], [0x2160, 0x2188]];
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => {
        const [low, high] = pools[Math.floor(random() * pools.length)]!;
        return String.fromCharCode(low! + Math.floor(random() * (high! - low! + 1)));
      }).join('');
      expect(tokenize(text)).toEqual(reference(text));
    }
  });

  it('lowercases, drops stop words, one-character words and numbers, and stems', () => {
    expect(tokenize('The Models were TRANSLATING English-to-German texts in 2023, a b c 42 ٤٢ x2')).toEqual(['model', 'translat', 'english', 'german', 'text', 'x2']);
  });
});

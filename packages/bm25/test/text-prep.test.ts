import { describe, expect, it } from 'vitest';
import { cardTextPrep, forEachWord } from '../src/index.js';

const separator = /[^\p{L}\p{N}]+/u;

function words(text: string): string[] {
  const found: string[] = [];
  forEachWord(text, (start, end) => found.push(text.slice(start, end)));
  return found;
}

describe('card-v1 text preparation', () => {
  it('splits into the same words as the regular expression it replaced', () => {
    const tricky = [
      '',
      'plain ascii words, with-punctuation_and 123 numbers!',
      'café naïve (precomposed) and cafe\u0301 (combining mark: not a letter)',
      '日本語のテキスト・中文 한국어 русский العربية ١٢٣ ٣ digits',
      'astral letters 𝐀𝐁𝐂 and emoji 😀 between 𝑥y𝑧',
      'lone surrogates \ud800 here \udc00 and at the end \ud83d',
      '\ud83d\ude00start and end\ud835\udc00',
      'ⅻ roman numeral (Nl), ½ (No), ² (No)',
      'tab\tnewline\nnbsp\u00a0zero-width\u200bjoiner\u200d',
    ];
    for (const text of tricky) expect(words(text)).toEqual(text.split(separator).filter((word) => word !== ''));
    // Random strings over ASCII, Latin-1, CJK, combining marks, digits of other scripts and surrogates.
    let state = 5;
    const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const pools = [[0x20, 0x7e], [0xa0, 0xff], [0x300, 0x36f], [0x660, 0x669], [0x4e00, 0x4e40], [0xd800, 0xdbff], [0xdc00, 0xdfff], [0x2160, 0x2188]];
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: Math.floor(random() * 40) }, () => {
        const [low, high] = pools[Math.floor(random() * pools.length)]!;
        return String.fromCharCode(low! + Math.floor(random() * (high! - low! + 1)));
      }).join('');
      expect(words(text)).toEqual(text.split(separator).filter((word) => word !== ''));
    }
  });

  it('lowercases, drops stop words, one-character words and numbers, and stems', () => {
    const [tokenize] = cardTextPrep.tasks();
    expect(tokenize!('The Models were TRANSLATING English-to-German texts in 2023, a b c 42 ٤٢ x2')).toEqual(['model', 'translat', 'english', 'german', 'text', 'x2']);
  });
});

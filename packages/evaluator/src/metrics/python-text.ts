/**
 * Text rules of Python's `str`, which the reference metrics (sacrebleu, SQuAD, HF evaluate) use.
 * JavaScript's `\s` differs: it counts U+FEFF as space and misses U+001C–U+001F and U+0085.
 */

/** Whether a code point is whitespace for Python's `str.split()` / `str.isspace()`. */
export function isPythonWhitespace(codePoint: number): boolean {
  if (codePoint <= 0x20) return codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d) || (codePoint >= 0x1c && codePoint <= 0x1f);
  if (codePoint < 0x85) return false;
  return (
    codePoint === 0x85 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}

/** Python's `text.split()` (no argument): runs of whitespace separate words, none are empty. */
export function pythonSplit(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let index = 0; index < text.length; index++) {
    // Every Python whitespace character is in the BMP, so UTF-16 units are enough here.
    if (isPythonWhitespace(text.charCodeAt(index))) {
      if (start >= 0) {
        words.push(text.slice(start, index));
        start = -1;
      }
    } else if (start < 0) start = index;
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
}

/** ASCII punctuation, Python's `string.punctuation`. */
export const PYTHON_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const punctuationCodes = new Uint8Array(128);
for (let index = 0; index < PYTHON_PUNCTUATION.length; index++) punctuationCodes[PYTHON_PUNCTUATION.charCodeAt(index)] = 1;

/** Whether a UTF-16 unit is one of Python's `string.punctuation` characters. */
export function isAsciiPunctuation(unit: number): boolean {
  return unit < 128 && punctuationCodes[unit] === 1;
}

import { createRequire } from 'node:module';
import { Prompt2ModelError } from '@prompt2model/core/internal';

/** One step of a text preparation pipeline (string → string, string → tokens, or tokens → tokens). */
export type PrepTask = (input: any) => any;

/**
 * A named text preparation pipeline. wink-bm25-text-search keeps its prep tasks (functions) out of
 * its JSON export, so a persisted index stores only the pipeline's name and re-attaches the tasks
 * from this registry when it is loaded.
 */
export interface TextPrep {
  readonly name: string;
  /** Tasks applied in order; the last one must return an array of tokens. */
  tasks(): PrepTask[];
}

const registry = new Map<string, TextPrep>();

/** Adds (or replaces) a pipeline, so indexes built with it can be loaded again. */
export function registerTextPrep(prep: TextPrep): void {
  registry.set(prep.name, prep);
}

export function getTextPrep(name: string): TextPrep {
  const prep = registry.get(name);
  if (!prep) {
    throw new Prompt2ModelError({
      message: `Unknown text preparation pipeline "${name}" (known: ${[...registry.keys()].join(', ')}).`,
      hint: 'The index was built with a custom pipeline: call registerTextPrep() with the same pipeline before loading it, or rebuild the index.',
    });
  }
  return prep;
}

export function listTextPreps(): string[] {
  return [...registry.keys()];
}

// wink's own small modules, loaded one by one: wink-nlp-utils' index pulls in wink-nlp and its
// 3.8 MB English model (a quarter of a second at start-up), which none of this needs.
const require = createRequire(import.meta.url);
const porter2Stem = require('wink-porter2-stemmer') as (word: string) => string;
const stopWords: ReadonlySet<string> = new Set(require('wink-nlp-utils/src/dictionaries/stop_words.json') as string[]);
const wink = {
  lowerCase: require('wink-nlp-utils/src/string-lower-case.js') as (text: string) => string,
  tokenize0: require('wink-nlp-utils/src/string-tokenize0.js') as (text: string) => string[],
  removeWords: require('wink-nlp-utils/src/tokens-remove-words.js') as (tokens: string[]) => string[],
  stem: require('wink-nlp-utils/src/tokens-stem.js') as (tokens: string[]) => string[],
};

const wordCharacter = /^[\p{L}\p{N}]$/u;
const digitsOnly = /^\p{N}+$/u;
/** Per UTF-16 code unit: 0 not looked up yet, 1 a letter or digit, 2 anything else. */
const unitKinds = new Uint8Array(65536);

function lookUpUnit(unit: number): number {
  return (unitKinds[unit] = wordCharacter.test(String.fromCharCode(unit)) ? 1 : 2);
}

/**
 * The default pipeline for model cards, fused into one pass: lowercase, split on anything that is
 * not a letter or a digit, drop stop words, one-character tokens and pure numbers (metric values,
 * hyperparameters: many distinct tokens that never help a query), then stem. Card vocabularies
 * repeat a lot (about 71k distinct words in 3.1M), so each word's outcome (its stem, or dropped) is
 * memoised: Porter2 stemming was most of the cost of indexing. The memo is bounded to keep memory
 * flat when a long-lived process indexes many corpora.
 */
export const cardTextPrep: TextPrep = {
  name: 'card-v1',
  tasks() {
    const limit = 200_000;
    let memo = new Map<string, string | null>();
    // One function (no callback, no helper per character): a query runs it a few hundred times
    // before V8 optimises it, and each late optimisation is a pause in some query.
    const tokenize = (text: string): string[] => {
      const tokens: string[] = [];
      const lower = text.toLowerCase();
      const length = lower.length;
      // Runs of letters and digits (Unicode \p{L}, \p{N}): the pieces `split(/[^\p{L}\p{N}]+/u)`
      // keeps, without the regular expression or its array (a third of the time of indexing 11,000
      // cards). Code points outside the BMP are judged whole, as the u flag does; a lone surrogate
      // is not a letter.
      let start = -1;
      for (let i = 0; i <= length; i++) {
        let inWord = false;
        let pair = false;
        if (i < length) {
          const unit = lower.charCodeAt(i);
          if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < length && lower.charCodeAt(i + 1) >= 0xdc00 && lower.charCodeAt(i + 1) <= 0xdfff) {
            pair = true;
            inWord = wordCharacter.test(lower.slice(i, i + 2));
          } else {
            let kind = unitKinds[unit]!;
            if (kind === 0) kind = lookUpUnit(unit);
            inWord = kind === 1;
          }
        }
        if (inWord) {
          if (start < 0) start = i;
        } else if (start >= 0) {
          if (i - start >= 2) {
            const word = lower.slice(start, i);
            let token = memo.get(word);
            if (token === undefined) {
              token = stopWords.has(word) || digitsOnly.test(word) ? null : porter2Stem(word);
              if (memo.size >= limit) memo = new Map();
              memo.set(word, token);
            }
            if (token !== null) tokens.push(token);
          }
          start = -1;
        }
        if (pair) i++;
      }
      return tokens;
    };
    return [tokenize];
  },
};

/** wink's documented default pipeline (lowercase, tokenize0, stop words, stem): the baseline. */
export const winkDefaultTextPrep: TextPrep = {
  name: 'wink-default',
  tasks() {
    return [wink.lowerCase, wink.tokenize0, wink.removeWords, wink.stem];
  },
};

registerTextPrep(cardTextPrep);
registerTextPrep(winkDefaultTextPrep);

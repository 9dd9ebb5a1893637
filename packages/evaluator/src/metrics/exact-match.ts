import { ValidationError } from '@prompt2model/core/internal';
import { isAsciiPunctuation, pythonSplit } from './python-text.js';

/**
 * Exact match as Hugging Face `evaluate`'s `exact_match` metric (plain string equality after the
 * optional rewrites, in its order: regexes, case, punctuation, digits), or with the official SQuAD
 * v1.1 answer normalisation. Several references per prediction: the best one counts.
 */
export interface ExactMatchOptions {
  /** Regular expressions removed from both sides first (in order, every match). JavaScript syntax. */
  regexesToIgnore?: ReadonlyArray<string | RegExp>;
  /** Lowercase both sides. */
  ignoreCase?: boolean;
  /** Remove ASCII punctuation (Python's `string.punctuation`) from both sides. */
  ignorePunctuation?: boolean;
  /** Remove the ASCII digits 0-9 from both sides. */
  ignoreNumbers?: boolean;
  /**
   * `squad`: compare official SQuAD normalisations (lowercase, punctuation and articles removed,
   * whitespace collapsed); applied after the options above. Default `none`.
   */
  normalize?: 'none' | 'squad';
}

export type References = ReadonlyArray<string | readonly string[]>;

function checkLengths(metric: string, predictions: readonly string[], references: References): void {
  if (predictions.length !== references.length) {
    throw new ValidationError({
      subject: `${metric} input`,
      issues: [{ path: '', message: `${predictions.length} predictions but ${references.length} references` }],
      hint: 'Give one reference (or one array of references) per prediction, in the same order.',
    });
  }
}

function referenceList(reference: string | readonly string[]): readonly string[] {
  return typeof reference === 'string' ? [reference] : reference;
}

function toGlobalRegExp(pattern: string | RegExp): RegExp {
  if (typeof pattern === 'string') return new RegExp(pattern, 'g');
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

function removeChars(text: string, drop: (unit: number) => boolean): string {
  let result = '';
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    if (drop(text.charCodeAt(index))) {
      result += text.slice(start, index);
      start = index + 1;
    }
  }
  return start === 0 ? text : result + text.slice(start);
}

const isAsciiDigit = (unit: number): boolean => unit >= 0x30 && unit <= 0x39;

/** The text as exact match compares it, after the chosen rewrites. */
export function prepareForExactMatch(text: string, options: ExactMatchOptions = {}): string {
  let result = text;
  for (const pattern of options.regexesToIgnore ?? []) result = result.replace(toGlobalRegExp(pattern), '');
  if (options.ignoreCase) result = result.toLowerCase();
  if (options.ignorePunctuation) result = removeChars(result, isAsciiPunctuation);
  if (options.ignoreNumbers) result = removeChars(result, isAsciiDigit);
  if (options.normalize === 'squad') result = normalizeSquadAnswer(result);
  return result;
}

/** Per-example exact match (1 or 0; the best reference counts). */
export function exactMatchScores(predictions: readonly string[], references: References, options: ExactMatchOptions = {}): number[] {
  checkLengths('exact match', predictions, references);
  return predictions.map((prediction, index) => {
    const prepared = prepareForExactMatch(prediction, options);
    return referenceList(references[index]!).some((reference) => prepareForExactMatch(reference, options) === prepared) ? 1 : 0;
  });
}

/** Share of predictions equal to (one of) their references, in [0, 1]; 0 for no predictions. */
export function exactMatch(predictions: readonly string[], references: References, options: ExactMatchOptions = {}): number {
  return mean(exactMatchScores(predictions, references, options));
}

// Python's `\b` in a str pattern is Unicode-aware: word characters are letters, numbers and `_`.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * The official SQuAD v1.1 `normalize_answer`: lowercase, drop ASCII punctuation, replace the
 * articles a/an/the by a space, collapse whitespace (Python's whitespace set).
 */
export function normalizeSquadAnswer(text: string): string {
  const lowered = text.toLowerCase();
  const withoutPunctuation = removeChars(lowered, isAsciiPunctuation);
  const withoutArticles = withoutPunctuation.replace(ARTICLES, ' ');
  return pythonSplit(withoutArticles).join(' ');
}

/** SQuAD token F1 of one prediction against one answer (0 when no token is shared). */
function tokenF1(predictionTokens: readonly string[], answerTokens: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const token of answerTokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predictionTokens) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      same++;
      counts.set(token, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = (1.0 * same) / predictionTokens.length;
  const recall = (1.0 * same) / answerTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Per-example SQuAD token F1 in [0, 1] (the best reference counts). */
export function squadF1Scores(predictions: readonly string[], references: References): number[] {
  checkLengths('SQuAD F1', predictions, references);
  return predictions.map((prediction, index) => {
    const predictionTokens = pythonSplit(normalizeSquadAnswer(prediction));
    let best = 0;
    for (const reference of referenceList(references[index]!)) {
      best = Math.max(best, tokenF1(predictionTokens, pythonSplit(normalizeSquadAnswer(reference))));
    }
    return best;
  });
}

/**
 * SQuAD token-level F1 (the official v1.1 script's `f1_score`, max over references), averaged
 * over examples, in [0, 1] (the SQuAD script reports 100 times this).
 */
export function squadF1(predictions: readonly string[], references: References): number {
  return mean(squadF1Scores(predictions, references));
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

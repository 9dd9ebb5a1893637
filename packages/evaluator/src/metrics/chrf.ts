import { ValidationError } from '@prompt2model/core';
import { isAsciiPunctuation, isPythonWhitespace, pythonSplit } from './python-text.js';

/**
 * chrF and chrF++ (Popović 2015, 2017), computed exactly as sacrebleu 2.x does: character n-grams
 * over Unicode code points with Python's whitespace rules, word n-grams after sacrebleu's
 * punctuation split, the best reference per sentence, and corpus scores from summed statistics.
 */
export interface ChrFOptions {
  /** Character n-gram order (default 6). */
  charOrder?: number;
  /** Word n-gram order: 2 is chrF++ (the default), 0 is plain chrF. */
  wordOrder?: number;
  /** Recall weight (default 2). */
  beta?: number;
  /** sacrebleu's `eps_smoothing`: average per-order F-scores with epsilon smoothing (chrF++.py style). Default false. */
  epsSmoothing?: boolean;
  /** Keep whitespace inside character n-grams (default false: whitespace is removed first). */
  whitespace?: boolean;
  /** Lowercase hypotheses and references first (default false). */
  lowercase?: boolean;
}

export interface ChrFResult {
  /** chrF(++) on the 0–100 scale. */
  score: number;
  /**
   * Summed statistics: `[hyp, ref, match]` for character orders 1..charOrder, then word orders
   * 1..wordOrder (sacrebleu's layout).
   */
  statistics: number[];
  /** Metric name in sacrebleu's style, `chrF2++` or `chrF2`. */
  name: string;
}

interface ResolvedChrFOptions {
  charOrder: number;
  wordOrder: number;
  beta: number;
  epsSmoothing: boolean;
  whitespace: boolean;
  lowercase: boolean;
}

function resolveOptions(options: ChrFOptions): ResolvedChrFOptions {
  const resolved = {
    charOrder: options.charOrder ?? 6,
    wordOrder: options.wordOrder ?? 2,
    beta: options.beta ?? 2,
    epsSmoothing: options.epsSmoothing ?? false,
    whitespace: options.whitespace ?? false,
    lowercase: options.lowercase ?? false,
  };
  const issues = [];
  if (!Number.isInteger(resolved.charOrder) || resolved.charOrder < 0) issues.push({ path: 'charOrder', message: 'must be a non-negative integer' });
  if (!Number.isInteger(resolved.wordOrder) || resolved.wordOrder < 0) issues.push({ path: 'wordOrder', message: 'must be a non-negative integer' });
  if (resolved.charOrder + resolved.wordOrder === 0) issues.push({ path: 'charOrder', message: 'charOrder + wordOrder must be at least 1' });
  if (!(resolved.beta > 0)) issues.push({ path: 'beta', message: 'must be positive' });
  if (issues.length > 0) throw new ValidationError({ subject: 'chrF options', issues, hint: 'Defaults are charOrder 6, wordOrder 2 (chrF++), beta 2.' });
  return resolved;
}

const EPSILON = 1e-16;

/** sacrebleu `CHRF._compute_f_score`, with the same operation order so results agree to the last bits. */
function fScore(statistics: ArrayLike<number>, order: number, beta: number, epsSmoothing: boolean): number {
  const factor = beta * beta;
  let score = 0;
  let effectiveOrder = 0;
  let averagePrecision = 0;
  let averageRecall = 0;
  for (let index = 0; index < order; index++) {
    const hyp = statistics[3 * index]!;
    const ref = statistics[3 * index + 1]!;
    const match = statistics[3 * index + 2]!;
    const precision = hyp > 0 ? match / hyp : EPSILON;
    const recall = ref > 0 ? match / ref : EPSILON;
    const denominator = factor * precision + recall;
    score += denominator > 0 ? ((1 + factor) * precision * recall) / denominator : EPSILON;
    if (hyp > 0 && ref > 0) effectiveOrder += 1;
    averagePrecision += precision;
    averageRecall += recall;
  }
  if (epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) {
    averagePrecision = 0;
    averageRecall = 0;
  } else {
    averagePrecision /= effectiveOrder;
    averageRecall /= effectiveOrder;
  }
  if (averagePrecision + averageRecall === 0) return 0;
  let result = (1 + factor) * averagePrecision * averageRecall;
  result /= factor * averagePrecision + averageRecall;
  return 100 * result;
}

/**
 * Gives each distinct (prefix id, symbol) pair a small integer id, so an n-gram is identified by
 * one number built from its (n-1)-gram prefix: no substrings, no string hashing. The table is
 * cleared (by generation stamp, in O(1)) for every sentence, so it stays small and in cache.
 */
class PairInterner {
  private capacity = 1 << 12;
  /** Interleaved slots of four: generation stamp, prefix, symbol, id (one cache line per probe). */
  private table = new Int32Array(this.capacity * 4);
  private generation = 1;
  private size = 0;

  /** Ids handed out since the last reset; ids are 1..count. */
  get count(): number {
    return this.size;
  }

  reset(): void {
    this.generation++;
    this.size = 0;
  }

  intern(prefix: number, symbol: number): number {
    const table = this.table;
    const mask = this.capacity - 1;
    const generation = this.generation;
    let slot = Math.imul(Math.imul(prefix, 0x01000193) ^ symbol, 0x9e3779b1) >>> 0;
    slot = (slot ^ (slot >>> 15)) & mask;
    for (;;) {
      const base = slot << 2;
      if (table[base] !== generation) {
        const id = ++this.size;
        table[base] = generation;
        table[base + 1] = prefix;
        table[base + 2] = symbol;
        table[base + 3] = id;
        if (this.size * 2 > this.capacity) this.grow();
        return id;
      }
      if (table[base + 1] === prefix && table[base + 2] === symbol) return table[base + 3]!;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const generation = this.generation;
    this.capacity *= 2;
    this.table = new Int32Array(this.capacity * 4);
    const count = this.size;
    this.size = 0;
    // Re-insert in id order so every n-gram keeps its id.
    const entries: number[][] = [];
    for (let base = 0; base < old.length; base += 4) {
      if (old[base] === generation) entries[old[base + 3]! - 1] = [old[base + 1]!, old[base + 2]!];
    }
    for (let index = 0; index < count; index++) this.intern(entries[index]![0]!, entries[index]![1]!);
  }
}

/** The n-grams of one segment, each order as an array of interned ids. */
type SegmentNgrams = Int32Array[];

/** Extracts and counts n-grams for one chrF computation (one call of `chrF`/`sentenceChrF`). */
class ChrFScorer {
  /** Starts a new sentence: n-gram ids of earlier sentences are forgotten. */
  reset(): void {
    this.chars.reset();
    this.wordNgrams.reset();
    if (this.words.size > 100_000) this.words.clear();
  }

  private readonly chars = new PairInterner();
  private readonly wordNgrams = new PairInterner();
  private readonly words = new Map<string, number>();
  private counts = new Int32Array(1 << 12);
  private codePoints = new Int32Array(256);
  readonly order: number;

  constructor(readonly options: ResolvedChrFOptions) {
    this.order = options.charOrder + options.wordOrder;
  }

  ngrams(rawText: string): SegmentNgrams {
    const text = this.options.lowercase ? rawText.toLowerCase() : rawText;
    const { charOrder, wordOrder, whitespace } = this.options;
    const result: SegmentNgrams = [];
    // Code points (Python indexes strings by code point), whitespace dropped unless kept.
    if (this.codePoints.length < text.length) this.codePoints = new Int32Array(text.length * 2);
    const codePoints = this.codePoints;
    let length = 0;
    for (let index = 0; index < text.length; index++) {
      let unit = text.charCodeAt(index);
      if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
        const low = text.charCodeAt(index + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          unit = (unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
          index++;
        }
      }
      if (!whitespace && isPythonWhitespace(unit)) continue;
      codePoints[length++] = unit;
    }
    let previous: Int32Array | undefined;
    for (let n = 1; n <= charOrder; n++) {
      const count = Math.max(0, length - n + 1);
      const ids = new Int32Array(count);
      for (let index = 0; index < count; index++) {
        ids[index] = this.chars.intern(previous ? previous[index]! : 0, codePoints[index + n - 1]!);
      }
      result.push(ids);
      previous = ids;
    }
    if (wordOrder > 0) {
      const tokens = splitPunctuation(text);
      const symbols = new Int32Array(tokens.length);
      for (let index = 0; index < tokens.length; index++) {
        const token = tokens[index]!;
        let symbol = this.words.get(token);
        if (symbol === undefined) {
          symbol = this.words.size;
          this.words.set(token, symbol);
        }
        symbols[index] = symbol;
      }
      previous = undefined;
      for (let n = 1; n <= wordOrder; n++) {
        const count = Math.max(0, tokens.length - n + 1);
        const ids = new Int32Array(count);
        for (let index = 0; index < count; index++) {
          ids[index] = this.wordNgrams.intern(previous ? previous[index]! : 0, symbols[index + n - 1]!);
        }
        result.push(ids);
        previous = ids;
      }
    }
    const needed = Math.max(this.chars.count, this.wordNgrams.count) + 1;
    if (this.counts.length < needed) {
      const grown = new Int32Array(Math.max(needed, this.counts.length * 2));
      this.counts = grown;
    }
    return result;
  }

  /** `[hyp, ref, match]` per order for one hypothesis against one reference, written into `out`. */
  matchStatistics(hypothesis: SegmentNgrams, reference: SegmentNgrams, out: Float64Array): void {
    const counts = this.counts;
    for (let order = 0; order < this.order; order++) {
      const hyp = hypothesis[order]!;
      const ref = reference[order]!;
      for (let index = 0; index < hyp.length; index++) counts[hyp[index]!]!++;
      let match = 0;
      for (let index = 0; index < ref.length; index++) {
        const id = ref[index]!;
        if (counts[id]! > 0) {
          match++;
          counts[id]!--;
        }
      }
      for (let index = 0; index < hyp.length; index++) counts[hyp[index]!] = 0;
      // sacrebleu does not count hypothesis n-grams of an order the reference has none of.
      out[3 * order] = ref.length > 0 ? hyp.length : 0;
      out[3 * order + 1] = ref.length;
      out[3 * order + 2] = match;
    }
  }

  /** Statistics against the reference with the best sentence-level F-score (the first on ties). */
  bestStatistics(hypothesis: SegmentNgrams, references: SegmentNgrams[], scratch: Float64Array, best: Float64Array): void {
    let bestScore = -1;
    best.fill(0);
    for (const reference of references) {
      this.matchStatistics(hypothesis, reference, scratch);
      const score = fScore(scratch, this.order, this.options.beta, this.options.epsSmoothing);
      if (score > bestScore) {
        bestScore = score;
        best.set(scratch);
      }
    }
  }

  score(statistics: ArrayLike<number>): number {
    return fScore(statistics, this.order, this.options.beta, this.options.epsSmoothing);
  }
}

/**
 * sacrebleu `CHRF._remove_punctuation`: split on whitespace, then split one punctuation character
 * off the end of each word, or else off its start (only one, so `(hi)` gives `(hi` and `)`).
 */
function splitPunctuation(text: string): string[] {
  const tokens: string[] = [];
  for (const word of pythonSplit(text)) {
    if (word.length === 1) tokens.push(word);
    else if (isAsciiPunctuation(word.charCodeAt(word.length - 1))) tokens.push(word.slice(0, -1), word.slice(-1));
    else if (isAsciiPunctuation(word.charCodeAt(0))) tokens.push(word.slice(0, 1), word.slice(1));
    else tokens.push(word);
  }
  return tokens;
}

function metricName(options: ResolvedChrFOptions): string {
  return `chrF${options.beta}${'+'.repeat(options.wordOrder)}`;
}

function asReferenceList(reference: string | readonly string[], index: number): readonly string[] {
  const list = typeof reference === 'string' ? [reference] : reference;
  if (list.length === 0) {
    throw new ValidationError({
      subject: 'chrF references',
      issues: [{ path: String(index), message: 'has no reference' }],
      hint: 'Give at least one reference string per prediction.',
    });
  }
  return list;
}

/**
 * Corpus-level chrF(++): statistics are summed over sentences (each against its best reference)
 * and the F-score is computed once from the sums, as sacrebleu's `corpus_score`.
 * `references[i]` is the reference of `predictions[i]`, or an array of its references.
 */
export function chrF(
  predictions: readonly string[],
  references: ReadonlyArray<string | readonly string[]>,
  options: ChrFOptions = {},
): ChrFResult {
  if (predictions.length !== references.length) {
    throw new ValidationError({
      subject: 'chrF input',
      issues: [{ path: '', message: `${predictions.length} predictions but ${references.length} references` }],
      hint: 'Give one reference (or one array of references) per prediction, in the same order.',
    });
  }
  const resolved = resolveOptions(options);
  const scorer = new ChrFScorer(resolved);
  const width = 3 * scorer.order;
  const totals = new Float64Array(width);
  const scratch = new Float64Array(width);
  const best = new Float64Array(width);
  for (let index = 0; index < predictions.length; index++) {
    scorer.reset();
    const referenceNgrams = asReferenceList(references[index]!, index).map((reference) => scorer.ngrams(reference));
    const hypothesis = scorer.ngrams(predictions[index]!);
    scorer.bestStatistics(hypothesis, referenceNgrams, scratch, best);
    for (let k = 0; k < width; k++) totals[k]! += best[k]!;
  }
  return { score: scorer.score(totals), statistics: Array.from(totals), name: metricName(resolved) };
}

/** Sentence-level chrF(++) of one prediction against its reference(s) (the best one counts). */
export function sentenceChrF(prediction: string, references: string | readonly string[], options: ChrFOptions = {}): ChrFResult {
  return chrF([prediction], [references], options);
}

/** Sentence-level chrF(++) of each prediction, in order (scored with one shared n-gram table). */
export function sentenceChrFScores(
  predictions: readonly string[],
  references: ReadonlyArray<string | readonly string[]>,
  options: ChrFOptions = {},
): number[] {
  if (predictions.length !== references.length) {
    throw new ValidationError({
      subject: 'chrF input',
      issues: [{ path: '', message: `${predictions.length} predictions but ${references.length} references` }],
      hint: 'Give one reference (or one array of references) per prediction, in the same order.',
    });
  }
  const scorer = new ChrFScorer(resolveOptions(options));
  const width = 3 * scorer.order;
  const scratch = new Float64Array(width);
  const best = new Float64Array(width);
  return predictions.map((prediction, index) => {
    scorer.reset();
    const referenceNgrams = asReferenceList(references[index]!, index).map((reference) => scorer.ngrams(reference));
    scorer.bestStatistics(scorer.ngrams(prediction), referenceNgrams, scratch, best);
    return scorer.score(best);
  });
}

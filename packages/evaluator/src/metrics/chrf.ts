import { ValidationError } from '@prompt2model/core/internal';
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
 * The next stamp of a table cleared by stamping. Stamps are Int32: a scorer reused for billions
 * of sentences clears the table for real once instead of wrapping into stale stamps.
 */
export function nextGeneration(generation: number, stamps: Int32Array): number {
  if (generation < 0x7fffffff) return generation + 1;
  stamps.fill(0);
  return 1;
}

/** Largest directly addressed n-gram table (entries); longer sentences fall back to a hash map. */
const MAX_DIRECT_TABLE = 1 << 20;

/**
 * Gives the n-grams of one order, within one sentence (its hypothesis and references), dense ids
 * 1..count: an n-gram is its (n-1)-gram prefix id plus its last symbol, looked up in a directly
 * addressed table (no hashing, no substrings). Stamps clear the table in O(1) between uses.
 */
class NgramTable {
  private stamps = new Int32Array(1 << 14);
  private ids = new Int32Array(1 << 14);
  private readonly hashed = new Map<number, number>();
  private generation = 0;
  private width = 1;
  private direct = true;
  count = 0;

  /** Starts a new order: prefixes are 1..prefixCount, symbols 1..symbolCount. */
  begin(prefixCount: number, symbolCount: number): void {
    this.generation = nextGeneration(this.generation, this.stamps);
    this.count = 0;
    this.width = symbolCount + 1;
    const size = (prefixCount + 1) * this.width;
    this.direct = size <= MAX_DIRECT_TABLE;
    if (!this.direct) this.hashed.clear();
    else if (this.stamps.length < size) {
      const capacity = Math.min(MAX_DIRECT_TABLE, Math.max(size, this.stamps.length * 2));
      this.stamps = new Int32Array(capacity);
      this.ids = new Int32Array(capacity);
    }
  }

  id(prefix: number, symbol: number): number {
    const key = prefix * this.width + symbol;
    if (this.direct) {
      if (this.stamps[key] !== this.generation) {
        this.stamps[key] = this.generation;
        this.ids[key] = ++this.count;
      }
      return this.ids[key]!;
    }
    let id = this.hashed.get(key);
    if (id === undefined) {
      id = ++this.count;
      this.hashed.set(key, id);
    }
    return id;
  }
}

/** Code point → dense symbol id 1..size, for one sentence. */
class Alphabet {
  private readonly bmpStamps = new Int32Array(0x10000);
  private readonly bmpIds = new Int32Array(0x10000);
  private readonly astral = new Map<number, number>();
  private generation = 0;
  size = 0;

  reset(): void {
    this.generation = nextGeneration(this.generation, this.bmpStamps);
    this.size = 0;
    this.astral.clear();
  }

  id(codePoint: number): number {
    if (codePoint < 0x10000) {
      if (this.bmpStamps[codePoint] !== this.generation) {
        this.bmpStamps[codePoint] = this.generation;
        this.bmpIds[codePoint] = ++this.size;
      }
      return this.bmpIds[codePoint]!;
    }
    let id = this.astral.get(codePoint);
    if (id === undefined) {
      id = ++this.size;
      this.astral.set(codePoint, id);
    }
    return id;
  }
}

/**
 * Computes sacrebleu's chrF statistics sentence by sentence. All n-grams of a sentence (the
 * hypothesis and its references) live in one reused arena of ids: segment `s`, order `k` is
 * `arena[starts[k * segments + s] ..+ lengths[...]]`.
 */
class ChrFScorer {
  readonly order: number;
  /** sacrebleu's metric name for these options. */
  readonly name: string;
  /** The best reference's statistics of the last sentence scored (reused by the callers). */
  readonly best: Float64Array;
  private readonly alphabet = new Alphabet();
  private readonly table = new NgramTable();
  private readonly words = new Map<string, number>();
  private arena = new Int32Array(1 << 14);
  private starts = new Int32Array(64);
  private lengths = new Int32Array(64);
  private counts = new Int32Array(1 << 10);
  private scratch: Float64Array;

  constructor(readonly options: ResolvedChrFOptions) {
    this.order = options.charOrder + options.wordOrder;
    this.scratch = new Float64Array(3 * this.order);
    this.best = new Float64Array(3 * this.order);
    this.name = metricName(options);
  }

  score(statistics: ArrayLike<number>): number {
    return fScore(statistics, this.order, this.options.beta, this.options.epsSmoothing);
  }

  /**
   * `[hyp, ref, match]` per order of `hypothesis` against the reference with the best
   * sentence-level F-score (the first one on ties), written into `best`.
   */
  sentenceStatistics(hypothesis: string, references: readonly string[], best: Float64Array): void {
    const { charOrder, wordOrder, whitespace, lowercase } = this.options;
    const segments = references.length + 1;
    const texts = new Array<string>(segments);
    let bound = 0;
    for (let s = 0; s < segments; s++) {
      const raw = s < references.length ? references[s]! : hypothesis;
      texts[s] = lowercase ? raw.toLowerCase() : raw;
      bound += texts[s]!.length;
    }
    bound *= this.order;
    if (this.arena.length < bound) this.arena = new Int32Array(Math.max(bound, this.arena.length * 2));
    if (this.starts.length < segments * this.order) {
      this.starts = new Int32Array(segments * this.order * 2);
      this.lengths = new Int32Array(segments * this.order * 2);
    }
    const arena = this.arena;
    const starts = this.starts;
    const lengths = this.lengths;
    let used = 0;
    let maxId = 0;

    if (charOrder > 0) {
      // Order 1: code points (Python indexes by code point) as dense symbols; whitespace dropped unless kept.
      const alphabet = this.alphabet;
      alphabet.reset();
      for (let s = 0; s < segments; s++) {
        const text = texts[s]!;
        starts[s] = used;
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
          arena[used++] = alphabet.id(unit);
        }
        lengths[s] = used - starts[s]!;
      }
      used = this.higherOrders(0, charOrder, segments, alphabet.size, used);
      maxId = Math.max(maxId, alphabet.size, this.table.count);
    }

    if (wordOrder > 0) {
      const words = this.words;
      words.clear();
      const base = charOrder * segments;
      for (let s = 0; s < segments; s++) {
        starts[base + s] = used;
        for (const token of splitPunctuation(texts[s]!)) {
          let symbol = words.get(token);
          if (symbol === undefined) {
            symbol = words.size + 1;
            words.set(token, symbol);
          }
          arena[used++] = symbol;
        }
        lengths[base + s] = used - starts[base + s]!;
      }
      this.higherOrders(charOrder, wordOrder, segments, words.size, used);
      maxId = Math.max(maxId, words.size, this.table.count);
    }

    if (this.counts.length <= maxId) this.counts = new Int32Array(Math.max(maxId + 1, this.counts.length * 2));
    let bestScore = -1;
    best.fill(0);
    for (let r = 0; r < references.length; r++) {
      this.matchStatistics(references.length, r, segments);
      const score = this.score(this.scratch);
      if (score > bestScore) {
        bestScore = score;
        best.set(this.scratch);
      }
    }
  }

  /**
   * Orders 2..count of one kind (characters or words) from the order-1 symbols at order index
   * `first`: n-gram i of order n is (n-1)-gram i plus symbol i+n-1. Returns the arena end.
   */
  private higherOrders(first: number, count: number, segments: number, symbolCount: number, used: number): number {
    const arena = this.arena;
    const starts = this.starts;
    const lengths = this.lengths;
    let prefixCount = symbolCount;
    let maxCount = 0;
    for (let n = 2; n <= count; n++) {
      this.table.begin(prefixCount, symbolCount);
      const previous = (first + n - 2) * segments;
      const current = (first + n - 1) * segments;
      for (let s = 0; s < segments; s++) {
        const symbols = starts[first * segments + s]!;
        const prefixes = starts[previous + s]!;
        const length = Math.max(0, lengths[previous + s]! - 1);
        starts[current + s] = used;
        lengths[current + s] = length;
        for (let index = 0; index < length; index++) {
          arena[used + index] = this.table.id(arena[prefixes + index]!, arena[symbols + index + n - 1]!);
        }
        used += length;
      }
      prefixCount = this.table.count;
      maxCount = Math.max(maxCount, prefixCount);
    }
    // Keep `table.count` meaning "largest id handed out" for sizing the counts array.
    this.table.count = maxCount;
    return used;
  }

  /** Statistics of the hypothesis (the last segment) against reference segment `r`, into `scratch`. */
  private matchStatistics(hypothesis: number, r: number, segments: number): void {
    const { arena, starts, lengths, counts, scratch } = this;
    for (let order = 0; order < this.order; order++) {
      const hypStart = starts[order * segments + hypothesis]!;
      const hypLength = lengths[order * segments + hypothesis]!;
      const refStart = starts[order * segments + r]!;
      const refLength = lengths[order * segments + r]!;
      for (let index = 0; index < hypLength; index++) counts[arena[hypStart + index]!]!++;
      let match = 0;
      for (let index = 0; index < refLength; index++) {
        const id = arena[refStart + index]!;
        if (counts[id]! > 0) {
          match++;
          counts[id]!--;
        }
      }
      for (let index = 0; index < hypLength; index++) counts[arena[hypStart + index]!] = 0;
      // sacrebleu does not count hypothesis n-grams of an order the reference has none of.
      scratch[3 * order] = refLength > 0 ? hypLength : 0;
      scratch[3 * order + 1] = refLength;
      scratch[3 * order + 2] = match;
    }
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
  const scorer = cachedScorer(options);
  const width = 3 * scorer.order;
  const totals = new Float64Array(width);
  const best = scorer.best;
  for (let index = 0; index < predictions.length; index++) {
    scorer.sentenceStatistics(predictions[index]!, asReferenceList(references[index]!, index), best);
    for (let k = 0; k < width; k++) totals[k]! += best[k]!;
  }
  return { score: scorer.score(totals), statistics: Array.from(totals), name: scorer.name };
}

/**
 * Scorers kept between calls, one per option set: a scorer's tables (the 64 Ki-entry code-point
 * map, the n-gram table, the arena) cost far more to allocate than one sentence costs to score, so
 * per-call use (an evaluation loop scoring example by example) reuses them. Scoring is synchronous,
 * so one scorer never serves two calls at once.
 */
const scorers = new Map<string, ChrFScorer>();
const MAX_CACHED_SCORERS = 16;

function cachedScorer(options: ChrFOptions): ChrFScorer {
  const key = `${options.charOrder}|${options.wordOrder}|${options.beta}|${options.epsSmoothing}|${options.whitespace}|${options.lowercase}`;
  let scorer = scorers.get(key);
  if (!scorer) {
    scorer = new ChrFScorer(resolveOptions(options));
    if (scorers.size >= MAX_CACHED_SCORERS) scorers.delete(scorers.keys().next().value!);
    scorers.set(key, scorer);
  }
  return scorer;
}

/** Sentence-level chrF(++) of one prediction against its reference(s) (the best one counts). */
export function sentenceChrF(prediction: string, references: string | readonly string[], options: ChrFOptions = {}): ChrFResult {
  const scorer = cachedScorer(options);
  const best = scorer.best;
  scorer.sentenceStatistics(prediction, asReferenceList(references, 0), best);
  return { score: scorer.score(best), statistics: Array.from(best), name: scorer.name };
}

/**
 * Each prediction's chrF statistics (against its best reference), in sacrebleu's layout; summed
 * over any subset and given to `chrFScoreOf`, they give that subset's corpus chrF exactly, without
 * scoring a sentence twice (the cascade's calibration scores many mixes of the same answers).
 */
export function chrFStatistics(
  predictions: readonly string[],
  references: ReadonlyArray<string | readonly string[]>,
  options: ChrFOptions = {},
): Float64Array[] {
  const scorer = cachedScorer(options);
  const best = scorer.best;
  return predictions.map((prediction, index) => {
    scorer.sentenceStatistics(prediction, asReferenceList(references[index]!, index), best);
    return Float64Array.from(best);
  });
}

/** Corpus chrF(++) from summed statistics (`chrFStatistics` rows added up), as `chrF` scores them. */
export function chrFScoreOf(totals: ArrayLike<number>, options: ChrFOptions = {}): number {
  return cachedScorer(options).score(totals);
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
  const scorer = cachedScorer(options);
  const best = scorer.best;
  return predictions.map((prediction, index) => {
    scorer.sentenceStatistics(prediction, asReferenceList(references[index]!, index), best);
    return scorer.score(best);
  });
}

import { InvalidArgumentError, lazySchema, Prompt2ModelError, ValidationError } from '@prompt2model/core/internal';
import type { z } from 'zod';
import { unpackStrings, type BinaryFileReader, type BinaryFileWriter, type PackedStrings } from './binary-file.js';
import { PostingKernels, TERMS_PER_CALL } from './kernels.js';
import { TermTable } from './term-table.js';
import { cardTextPrep, getTextPrep, type PrepTask } from './text-prep.js';

export interface Bm25Options {
  /** Name of a registered text preparation pipeline (see `registerTextPrep`). Default `card-v1`. */
  prep?: string;
  /** Term-frequency saturation. Default 1.2. */
  k1?: number;
  /** Length normalisation in [0, 1]. Default 0.75. */
  b?: number;
}

export interface Bm25Hit {
  id: string;
  score: number;
}

/** Every matching document of one query, as parallel arrays (no object per document). */
export interface Bm25Scores {
  /** Document positions (insertion order) of the matches, in no particular order. */
  documents: Int32Array;
  /** BM25 score of each match, aligned with `documents`. */
  scores: Float64Array;
}

/** What `Bm25Index.toJSON()` returns. Typed arrays are base64 so the file parses fast. */
export const PersistedBm25Schema = lazySchema((z) =>
  z.object({
    prep: z.string(),
    k1: z.number(),
    b: z.number(),
    ids: z.array(z.string()),
    /** Term → postings range: term i's postings are `offsets[i] .. offsets[i+1]`. */
    terms: z.array(z.string()),
    offsets: z.string(),
    postingDocuments: z.string(),
    postingWeights: z.string(),
  }),
);
export type PersistedBm25 = z.infer<typeof PersistedBm25Schema>;

/**
 * Scores are those of wink-bm25-text-search 3.1 (which this index used to be built on), bit for
 * bit: the same Okapi weights, `idf = ln((N − n + 0.5) / (n + 0.5) + 1)`, each weight rounded to 4
 * decimals as wink's `toFixed(4)` does, then stored as float32. wink refused fewer than three
 * documents by padding them out; the count still is at least three for the same scores.
 */
const minimumDocuments = 3;

/** Term-major postings (CSR): term t's documents and weights are `offsets[t] .. offsets[t+1]`. */
interface Postings {
  terms: TermTable;
  offsets: Int32Array;
  documents: Int32Array;
  weights: Float32Array;
}

/** Documents as added: each document's distinct term ids and their counts, end to end. */
class PostingsBuilder {
  readonly terms = new Map<string, number>();
  readonly seen = new Set<string>();
  docTerms = new Int32Array(1 << 16);
  docCounts = new Int32Array(1 << 16);
  docEnds: number[] = [];
  docLengths: number[] = [];
  used = 0;
  private counts = new Int32Array(1 << 12);
  private readonly distinct: number[] = [];

  add(tokens: readonly string[]): void {
    const { terms, distinct } = this;
    let counts = this.counts;
    for (const token of tokens) {
      let term = terms.get(token);
      if (term === undefined) {
        term = terms.size;
        terms.set(token, term);
        if (term >= counts.length) {
          const grown = new Int32Array(counts.length * 2);
          grown.set(counts);
          this.counts = counts = grown;
        }
      }
      if (counts[term]! === 0) distinct.push(term);
      counts[term]!++;
    }
    this.reserve(distinct.length);
    for (const term of distinct) {
      this.docTerms[this.used] = term;
      this.docCounts[this.used++] = counts[term]!;
      counts[term] = 0;
    }
    distinct.length = 0;
    this.docEnds.push(this.used);
    this.docLengths.push(tokens.length);
  }

  private reserve(extra: number): void {
    if (this.used + extra <= this.docTerms.length) return;
    const size = Math.max(this.docTerms.length * 2, this.used + extra);
    const terms = new Int32Array(size);
    const counts = new Int32Array(size);
    terms.set(this.docTerms.subarray(0, this.used));
    counts.set(this.docCounts.subarray(0, this.used));
    this.docTerms = terms;
    this.docCounts = counts;
  }

  /** The BM25 weight of every (term, document) pair, transposed to term-major postings. */
  build(k1: number, b: number): Postings {
    const { docTerms, docCounts, docEnds, docLengths, used } = this;
    const termCount = this.terms.size;
    const documentFrequency = new Int32Array(termCount);
    for (let slot = 0; slot < used; slot++) documentFrequency[docTerms[slot]!]!++;
    const total = Math.max(docEnds.length, minimumDocuments);
    const idf = new Float64Array(termCount);
    const offsets = new Int32Array(termCount + 1);
    for (let term = 0; term < termCount; term++) {
      const n = documentFrequency[term]!;
      idf[term] = Math.log((total - n + 0.5) / (n + 0.5) + 1);
      offsets[term + 1] = offsets[term]! + n;
    }
    let corpusLength = 0;
    for (const length of docLengths) corpusLength += length;
    const averageLength = corpusLength / total;
    const fill = offsets.slice(0, termCount);
    const documents = new Int32Array(used);
    const weights = new Float32Array(used);
    let slot = 0;
    for (let document = 0; document < docEnds.length; document++) {
      const normalization = 1 - b + b * (docLengths[document]! / averageLength);
      for (const end = docEnds[document]!; slot < end; slot++) {
        const term = docTerms[slot]!;
        const count = docCounts[slot]!;
        const at = fill[term]!++;
        documents[at] = document;
        weights[at] = roundTo4(Math.abs((count * (k1 + 1)) / (k1 * normalization + count)) * idf[term]!);
      }
    }
    // The builder's map keys are distinct, so the table cannot refuse them.
    const terms = TermTable.fromList(termList(this.terms), (message) => {
      throw new Prompt2ModelError({ message: `Internal error: the BM25 vocabulary ${message}.`, hint: 'Report this as a bug.' });
    });
    return { terms, offsets, documents, weights };
  }
}

/**
 * `Number(x.toFixed(4))` (wink's rounding), without a string per weight: scaling by 10⁴ and
 * rounding gives the same decimal unless the scaled value sits within rounding error of a half,
 * where `toFixed`'s exact decimal rule decides.
 */
function roundTo4(x: number): number {
  const scaled = x * 1e4;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (Math.abs(fraction - 0.5) < 1e-6 || !Number.isFinite(scaled)) return Number(x.toFixed(4));
  return (fraction < 0.5 ? floor : floor + 1) / 1e4;
}

const damagedHint = 'The file is damaged; rebuild it with `prompt2model index build`.';

/**
 * A BM25 index over one text field: documents are tokenised through a named prep pipeline, and
 * consolidation precomputes every (term, document) weight into a sparse term-major matrix of typed
 * arrays (CSR). A query then only adds up the postings of its terms in a reused score buffer (in
 * WebAssembly where available: `kernels.wat`), and ranks the strongest terms' documents. The
 * index saves as JSON (base64 arrays) or into a binary index file (typed-array sections that load
 * as views), and re-attaches its prep pipeline by name when loaded. Works with 0, 1 or 2 documents,
 * and reports misuse as errors with a hint.
 */
export class Bm25Index {
  readonly prep: string;
  readonly k1: number;
  readonly b: number;
  private readonly prepTasks: PrepTask[];
  private builder: PostingsBuilder | undefined;
  private idList: string[] = [];
  /** A loaded index's ids, made strings on first use (searching needs document positions only). */
  private packedIds: PackedStrings | undefined;
  private postings: Postings | undefined;
  /** The postings and score buffer in WebAssembly memory (`kernels.wat`); undefined where WebAssembly is unavailable. */
  private kernels: PostingKernels | undefined;
  private accumulator: Float64Array | undefined;
  private marks: Uint8Array | undefined;
  private touched: Int32Array | undefined;
  private scratch: QueryScratch | undefined;
  /** `documentColumns` where WebAssembly is unavailable. */
  private columns: { prior: Float64Array; skip: Uint8Array } | undefined;

  constructor(options: Bm25Options = {}) {
    this.prep = options.prep ?? cardTextPrep.name;
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1)) {
      throw new Prompt2ModelError({ message: `Invalid BM25 parameters k1 = ${this.k1}, b = ${this.b}.`, hint: 'k1 must be ≥ 0 and b between 0 and 1.' });
    }
    this.prepTasks = getTextPrep(this.prep).tasks();
  }

  /** Number of documents. */
  get size(): number {
    return this.packedIds ? this.packedIds.ends.length : this.idList.length;
  }

  private get ids(): string[] {
    if (this.packedIds) {
      this.idList = unpackStrings(this.packedIds);
      this.packedIds = undefined;
    }
    return this.idList;
  }

  get isConsolidated(): boolean {
    return this.postings !== undefined;
  }

  /** Document id at a position (the order documents were added). */
  idAt(position: number): string {
    const id = this.ids[position];
    if (id === undefined) throw new InvalidArgumentError({ argument: 'position', value: position, expected: `a document position below ${this.size}` });
    return id;
  }

  add(id: string, text: string): void {
    if (this.postings) {
      throw new Prompt2ModelError({
        message: `Cannot add "${id}": the BM25 index is already consolidated.`,
        hint: 'Add every document before the first search, or build a new index.',
      });
    }
    const builder = (this.builder ??= new PostingsBuilder());
    if (builder.seen.has(id)) {
      throw new Prompt2ModelError({ message: `Cannot add document "${id}": it is already in the index.`, hint: 'Document ids must be unique within one index.' });
    }
    builder.add(this.analyze(text));
    builder.seen.add(id);
    this.ids.push(id);
  }

  /** Computes the BM25 weights and freezes them; called by the first search when needed. */
  consolidate(): void {
    if (this.postings) return;
    this.postings = this.withKernels((this.builder ?? new PostingsBuilder()).build(this.k1, this.b));
    this.builder = undefined;
  }

  /** The query's terms as the index sees them (after the prep pipeline). */
  analyze(text: string): string[] {
    let value: unknown = text;
    for (const task of this.prepTasks) value = task(value);
    return value as string[];
  }

  /**
   * Scores every document that matches at least one query term. A term repeated in the query
   * counts each time (as in wink), so a long HyDE card weighs its frequent words more.
   */
  scoreAll(query: string): Bm25Scores {
    return this.withScores(query, (matches, count, scores) => {
      const documents = matches.slice(0, count);
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = scores[documents[i]!]!;
      return { documents, scores: values };
    });
  }

  /**
   * `scoreAll` without allocating, for callers that filter and rank thousands of matches per
   * query: scores the query into the index's reused buffers and calls `consume` once, with the
   * matching documents (`documents[0 .. count)`, in no particular order) and every document's
   * score (`scores[document]`). The buffers are cleared when `consume` returns: do not keep them.
   */
  withScores<T>(query: string, consume: (documents: Int32Array, count: number, scores: Float64Array) => T): T {
    this.consolidate();
    if (this.kernels) return this.withScoresInKernels(this.kernels, query, consume);
    const { terms, offsets, documents, weights } = this.postings!;
    const size = this.size;
    const accumulator = (this.accumulator ??= new Float64Array(size));
    const marks = (this.marks ??= new Uint8Array(size));
    const touched = (this.touched ??= new Int32Array(size));
    let count = 0;
    try {
      for (const token of query.trim() === '' ? [] : this.analyze(query)) {
        const term = terms.id(token);
        if (term === -1) continue;
        for (let slot = offsets[term]!, end = offsets[term + 1]!; slot < end; slot++) {
          const document = documents[slot]!;
          // Branch-free: always write the document at the end of the list, keep it only if new.
          touched[count] = document;
          count += 1 - marks[document]!;
          marks[document] = 1;
          accumulator[document]! += weights[slot]!;
        }
      }
      return consume(touched, count, accumulator);
    } finally {
      for (let i = 0; i < count; i++) {
        const document = touched[i]!;
        accumulator[document] = 0;
        marks[document] = 0;
      }
    }
  }

  /** `withScores` in WebAssembly: the same additions, in query order, in one call per query. */
  private withScoresInKernels<T>(kernels: PostingKernels, query: string, consume: (documents: Int32Array, count: number, scores: Float64Array) => T): T {
    const { terms, offsets } = this.postings!;
    const { ranges } = kernels;
    let found = 0;
    try {
      let pending = 0;
      for (const token of query.trim() === '' ? [] : this.analyze(query)) {
        const term = terms.id(token);
        if (term === -1) continue;
        putTerm(ranges, pending, offsets, term);
        if (++pending === TERMS_PER_CALL) {
          found = kernels.addTermsListed(pending, found);
          pending = 0;
        }
      }
      if (pending > 0) found = kernels.addTermsListed(pending, found);
      return consume(kernels.touched, found, kernels.scores);
    } finally {
      kernels.clearListed(found);
    }
  }

  /**
   * Matching documents, best first (ties by insertion order). `limit` defaults to every match;
   * with a limit only the best are scored in full (`topMatches`), with the same scores and order.
   */
  search(query: string, limit?: number): Bm25Hit[] {
    if (limit !== undefined && Number.isInteger(limit) && limit >= 1) {
      return this.topMatches(query, limit).map((match) => ({ id: this.ids[match.document]!, score: match.relevance }));
    }
    const { documents, scores } = this.scoreAll(query);
    const order = Array.from(documents.keys()).sort((a, b) => scores[b]! - scores[a]! || documents[a]! - documents[b]!);
    return order.slice(0, limit ?? order.length).map((i) => ({ id: this.ids[documents[i]!]!, score: scores[i]! }));
  }

  /**
   * The `k` best matching documents by `relevance + prior[document]` (ties: higher relevance, then
   * insertion order), best first, with exactly the scores `scoreAll` gives, without ranking every
   * match: term-at-a-time MaxScore. Every posting of the query is added into the score buffer in
   * query order (the same additions as `scoreAll`, so the same doubles), noting each term's largest
   * weight on the way; then only the documents of the strongest terms are ranked, strongest term
   * first, until the terms left (their largest weights plus `maxPrior`) cannot lift a document they
   * alone bring past the k-th best. `skip[document]` other than 0 leaves a document out (a filter
   * decided per document beforehand). `maxPrior` (default: the largest prior) may be the largest
   * prior among the documents not skipped.
   */
  topMatches(
    query: string,
    k: number,
    options: { prior?: Float64Array; maxPrior?: number; skip?: Uint8Array } = {},
  ): Array<{ document: number; relevance: number; score: number }> {
    this.consolidate();
    const { prior, skip } = options;
    if (!(k >= 1) || query.trim() === '') return [];
    const size = this.size;
    if (prior !== undefined && prior.length !== size) throw new InvalidArgumentError({ argument: 'prior', value: `${prior.length} values`, expected: `one per document (${size})` });
    if (skip !== undefined && skip.length !== size) throw new InvalidArgumentError({ argument: 'skip', value: `${skip.length} flags`, expected: `one per document (${size})` });
    const maxPrior = prior ? (options.maxPrior ?? maxOf(prior)) : 0;
    const { offsets } = this.postings!;
    const kernels = this.kernels;
    const scratch = (this.scratch ??= new QueryScratch(kernels?.stamps ?? new Uint32Array(size), offsets.length - 1));
    return kernels
      ? this.topMatchesInKernels(kernels, scratch, query, Math.min(k, size), prior, skip, maxPrior)
      : this.topMatchesInJavaScript(scratch, query, Math.min(k, size), prior, skip, maxPrior);
  }

  /** `topMatches` where WebAssembly is unavailable: the same steps as `topMatchesInKernels`, in JavaScript. */
  private topMatchesInJavaScript(
    scratch: QueryScratch,
    query: string,
    k: number,
    prior: Float64Array | undefined,
    skip: Uint8Array | undefined,
    maxPrior: number,
  ): Array<{ document: number; relevance: number; score: number }> {
    const { terms, offsets, documents, weights } = this.postings!;
    const size = this.size;
    const scores = (this.accumulator ??= new Float64Array(size));
    const { termSlot } = scratch;
    let postingCount = 0;
    try {
      // Every posting, in query order (the additions scoreAll makes); each distinct term's largest weight × repeats.
      for (const token of this.analyze(query)) {
        const term = terms.id(token);
        if (term === -1) continue;
        const from = offsets[term]!;
        const to = offsets[term + 1]!;
        postingCount += to - from;
        const max = addPostings(scores, documents, weights, from, to);
        scratch.upper[scratch.slotOf(term)]! += max;
      }
      const distinct = scratch.distinct;
      if (distinct === 0) return [];
      const order = scratch.strongestFirst();
      const rest = scratch.rest;
      const top = scratch.topK(k);
      const stamp = scratch.nextStamp();
      for (let i = 0; i < distinct; i++) {
        const term = scratch.terms[order[i]!]!;
        rankPostings(top, documents, offsets[term]!, offsets[term + 1]!, scores, scratch.stamps, stamp, prior, skip);
        // A document none of the terms so far has scores at most `rest[i] + maxPrior`.
        if (top.full && below(rest[i]! + maxPrior, top.worstScore)) break;
      }
      return top.items();
    } finally {
      // Clear the buffer: per posting when the query touched few, else all of it at once.
      const perPosting = postingCount * 16 < size;
      for (let i = 0; i < scratch.distinct; i++) {
        const term = scratch.terms[i]!;
        termSlot[term] = -1;
        if (perPosting) for (let slot = offsets[term]!, to = offsets[term + 1]!; slot < to; slot++) scores[documents[slot]!] = 0;
      }
      scratch.distinct = 0;
      if (!perPosting) scores.fill(0);
    }
  }

  /**
   * `topMatches`' additions, ranking and clearing in WebAssembly (`kernels.wat`): the same steps in
   * the same order, one call each per query, the terms handed over as posting ranges.
   */
  private topMatchesInKernels(
    kernels: PostingKernels,
    scratch: QueryScratch,
    query: string,
    k: number,
    prior: Float64Array | undefined,
    skip: Uint8Array | undefined,
    maxPrior: number,
  ): Array<{ document: number; relevance: number; score: number }> {
    const { terms, offsets } = this.postings!;
    const { ranges } = kernels;
    let postingCount = 0;
    try {
      // Every posting, in query order; each distinct term's largest weight × repeats.
      let pending = 0;
      for (const token of this.analyze(query)) {
        const term = terms.id(token);
        if (term === -1) continue;
        putTerm(ranges, pending, offsets, term);
        postingCount += offsets[term + 1]! - offsets[term]!;
        scratch.pendingSlots[pending++] = scratch.slotOf(term);
        if (pending === TERMS_PER_CALL) {
          scratch.addPending(kernels, pending);
          pending = 0;
        }
      }
      if (pending > 0) scratch.addPending(kernels, pending);
      const distinct = scratch.distinct;
      if (distinct === 0) return [];
      const order = scratch.strongestFirst();
      const stamp = scratch.nextStamp();
      const priorAt = kernels.priorAt(prior);
      const skipAt = kernels.skipAt(skip);
      let filled = 0;
      for (let first = 0; first < distinct; first += TERMS_PER_CALL) {
        const count = Math.min(TERMS_PER_CALL, distinct - first);
        for (let i = 0; i < count; i++) {
          putTerm(ranges, i, offsets, scratch.terms[order[first + i]!]!);
          kernels.rest[i] = scratch.rest[first + i]!;
        }
        filled = kernels.rankTerms(k, filled, count, maxPrior, stamp, priorAt, skipAt);
        if (kernels.stopped) break;
      }
      return kernels.topItems(k, filled);
    } finally {
      // Clear the buffer: per posting when the query touched few, else all of it at once.
      const distinct = scratch.distinct;
      if (postingCount * 16 < this.size) {
        for (let first = 0; first < distinct; first += TERMS_PER_CALL) {
          const count = Math.min(TERMS_PER_CALL, distinct - first);
          for (let i = 0; i < count; i++) putTerm(ranges, i, offsets, scratch.terms[first + i]!);
          kernels.clearTerms(count);
        }
      } else {
        kernels.scores.fill(0);
      }
      for (let i = 0; i < distinct; i++) scratch.termSlot[scratch.terms[i]!] = -1;
      scratch.distinct = 0;
    }
  }

  /**
   * A per-document prior and skip flags (all 0 at first) that `topMatches` reads in place when
   * they are passed back as its `prior` and `skip` (other arrays are copied at each query): for a
   * caller that ranks many queries with the same columns, such as the model index's popularity and
   * size filter. Fill them before a query, not during one.
   */
  documentColumns(): { prior: Float64Array; skip: Uint8Array } {
    this.consolidate();
    if (this.kernels) return { prior: this.kernels.prior, skip: this.kernels.skip };
    return (this.columns ??= { prior: new Float64Array(this.size), skip: new Uint8Array(this.size) });
  }

  toJSON(): PersistedBm25 {
    this.consolidate();
    const postings = this.postings!;
    return {
      prep: this.prep,
      k1: this.k1,
      b: this.b,
      ids: this.ids,
      terms: postings.terms.list(),
      offsets: toBase64(postings.offsets),
      postingDocuments: toBase64(postings.documents),
      postingWeights: toBase64(postings.weights),
    };
  }

  /** Restores an index written by `toJSON`, re-attaching its prep pipeline by name. */
  static fromJSON(value: unknown): Bm25Index {
    const parsed = PersistedBm25Schema.safeParse(value);
    if (!parsed.success) {
      throw ValidationError.fromZod('persisted BM25 index', parsed.error, 'Rebuild the index with `prompt2model index build`.');
    }
    const data = parsed.data;
    const fail = (message: string): never => {
      throw new ValidationError({ subject: 'persisted BM25 index', issues: [{ path: 'postings', message }], hint: damagedHint });
    };
    const terms = TermTable.fromList(data.terms, fail);
    const offsets = new Int32Array(fromBase64(data.offsets));
    return Bm25Index.restore(data, terms, { offsets, documents: new Int32Array(fromBase64(data.postingDocuments)), weights: new Float32Array(fromBase64(data.postingWeights)) }, fail);
  }

  /** Writes the index as sections (`<prefix>.ids`, `<prefix>.weights`, ...) of a binary index file. */
  writeTo(writer: BinaryFileWriter, prefix = 'bm25'): void {
    this.consolidate();
    const postings = this.postings!;
    writer
      .text(`${prefix}.prep`, this.prep)
      .float64(`${prefix}.params`, Float64Array.of(this.k1, this.b))
      .strings(`${prefix}.ids`, this.ids)
      .packedStrings(`${prefix}.terms`, postings.terms.text, postings.terms.ends)
      .int32(`${prefix}.termSlots`, postings.terms.slots)
      .int32(`${prefix}.offsets`, postings.offsets)
      .int32(`${prefix}.documents`, postings.documents)
      .float32(`${prefix}.weights`, postings.weights);
  }

  /**
   * Reads an index written by `writeTo`: the term table stays a view on the file's bytes, and so do
   * the postings when the bytes came from `readIndexFile` (else they are copied into the query
   * kernels' memory).
   */
  static readFrom(reader: BinaryFileReader, prefix = 'bm25'): Bm25Index {
    const params = reader.float64(`${prefix}.params`);
    if (params.length !== 2) reader.fail(`${prefix}.params`, 'expected k1 and b');
    const settings = { prep: reader.text(`${prefix}.prep`), k1: params[0]!, b: params[1]! };
    const { text, ends } = reader.packedStrings(`${prefix}.terms`);
    return Bm25Index.restore(
      { ...settings, ids: reader.packedStrings(`${prefix}.ids`) },
      // Files from before the saved term table: built here.
      new TermTable(text, ends, (message) => reader.fail(`${prefix}.terms`, message), reader.has(`${prefix}.termSlots`) ? reader.int32(`${prefix}.termSlots`) : undefined),
      { offsets: reader.int32(`${prefix}.offsets`), documents: reader.int32(`${prefix}.documents`), weights: reader.float32(`${prefix}.weights`) },
      (message) => reader.fail(`${prefix}.postings`, message),
    );
  }

  /**
   * The postings moved into WebAssembly memory (views on it replace the arrays, so they are not
   * held twice), with the score buffer beside them; as they are where WebAssembly is unavailable.
   */
  private withKernels(postings: Postings): Postings {
    const kernels = PostingKernels.create(postings.documents, postings.weights, this.size);
    if (!kernels) return postings;
    this.kernels = kernels;
    this.accumulator = kernels.scores;
    return { terms: postings.terms, offsets: postings.offsets, documents: kernels.documents, weights: kernels.weights };
  }

  private static restore(
    settings: { prep: string; k1: number; b: number; ids: string[] | PackedStrings },
    terms: TermTable,
    arrays: Omit<Postings, 'terms'>,
    fail: (message: string) => never,
  ): Bm25Index {
    const index = new Bm25Index({ prep: settings.prep, k1: settings.k1, b: settings.b });
    const { offsets, documents, weights } = arrays;
    const count = Array.isArray(settings.ids) ? settings.ids.length : settings.ids.ends.length;
    if (offsets.length !== terms.size + 1 || documents.length !== weights.length || offsets[0] !== 0 || offsets[terms.size] !== documents.length) {
      fail('postings do not match the term and document lists');
    }
    for (let term = 0; term < terms.size; term++) if (offsets[term]! > offsets[term + 1]!) fail('postings offsets are out of order');
    if (Array.isArray(settings.ids)) index.idList = settings.ids;
    else index.packedIds = settings.ids;
    const postings = index.withKernels({ terms, offsets, documents, weights });
    // Every posting must name a document that exists: a damaged file must not write outside the score buffer.
    if (index.kernels ? index.kernels.firstInvalidDocument(count) !== -1 : !allBelow(documents, count)) fail('a posting names a document that does not exist');
    index.postings = postings;
    return index;
  }
}

/**
 * Whether a best possible score cannot reach the threshold. The bound adds the terms' weights in
 * another order than the exact score does, so it is trusted only beyond rounding error.
 */
function below(best: number, threshold: number): boolean {
  return best < threshold - 1e-9 * Math.max(1, Math.abs(threshold));
}

/** Hands term `term`'s postings to a kernel call as its `i`-th range (`PostingKernels.ranges`). */
function putTerm(ranges: Int32Array, i: number, offsets: Int32Array, term: number): void {
  ranges[2 * i] = offsets[term]!;
  ranges[2 * i + 1] = offsets[term + 1]!;
}

/** Whether every value is in [0, limit). */
function allBelow(values: Int32Array, limit: number): boolean {
  for (let i = 0; i < values.length; i++) if (values[i]! < 0 || values[i]! >= limit) return false;
  return true;
}

/** Adds postings `from .. to` into `scores`; returns their largest weight (`addPostings` in kernels.wat, where WebAssembly is unavailable). */
function addPostings(scores: Float64Array, documents: Int32Array, weights: Float32Array, from: number, to: number): number {
  let max = 0;
  for (let slot = from; slot < to; slot++) {
    const weight = weights[slot]!;
    scores[documents[slot]!]! += weight;
    if (weight > max) max = weight;
  }
  return max;
}

/**
 * Offers the documents of postings `from .. to` not ranked yet in this query (`stamps`) and not
 * skipped to `top`, by their full score plus prior.
 */
function rankPostings(
  top: TopK,
  documents: Int32Array,
  from: number,
  to: number,
  scores: Float64Array,
  stamps: Uint32Array,
  stamp: number,
  prior: Float64Array | undefined,
  skip: Uint8Array | undefined,
): void {
  let threshold = top.worstScore;
  for (let slot = from; slot < to; slot++) {
    const document = documents[slot]!;
    if (stamps[document] === stamp) continue;
    stamps[document] = stamp;
    if (skip !== undefined && skip[document] !== 0) continue;
    const relevance = scores[document]!;
    const score = prior === undefined ? relevance : relevance + prior[document]!;
    // Most matches cannot enter a full top k: one comparison, no call.
    if (score < threshold) continue;
    if (top.offer(document, relevance, score)) threshold = top.worstScore;
  }
}

/** Sorts `order[0 .. count)` by value, largest first (a handful of query terms: insertion sort; more: the built-in sort). */
function sortBy(order: Int32Array, count: number, values: Float64Array): void {
  if (count > 32) {
    order.subarray(0, count).sort((a, b) => values[b]! - values[a]!);
    return;
  }
  for (let i = 1; i < count; i++) {
    const slot = order[i]!;
    const value = values[slot]!;
    let at = i;
    for (; at > 0 && values[order[at - 1]!]! < value; at--) order[at] = order[at - 1]!;
    order[at] = slot;
  }
}

/** Buffers `topMatches` reuses from query to query (sized by the index, grown with the query). */
class QueryScratch {
  /** Per term: its slot among the current query's distinct terms, −1 when not in the query. */
  readonly termSlot: Int32Array;
  /** Per document: the query that last ranked it (to rank each document once). */
  readonly stamps: Uint32Array;
  private stamp = 0;
  private top: TopK | undefined;
  /** The current query's distinct terms (`terms[0 .. distinct)`), each with its largest weight × repeats (`upper`). */
  distinct = 0;
  terms = new Int32Array(16);
  upper = new Float64Array(16);
  rest = new Float64Array(16);
  order = new Int32Array(16);
  /** Per term of a kernel call: its slot among the distinct terms. */
  readonly pendingSlots = new Int32Array(TERMS_PER_CALL);

  constructor(stamps: Uint32Array, terms: number) {
    this.termSlot = new Int32Array(terms).fill(-1);
    this.stamps = stamps;
  }

  /** The term's slot among the query's distinct terms, given one (its largest weight 0) when new. */
  slotOf(term: number): number {
    let at = this.termSlot[term]!;
    if (at === -1) {
      at = this.distinct++;
      this.termSlot[term] = at;
      this.reserve(this.distinct);
      this.terms[at] = term;
      this.upper[at] = 0;
    }
    return at;
  }

  /** Adds the postings of the `count` terms handed to the kernels, each distinct term's largest weight to its bound. */
  addPending(kernels: PostingKernels, count: number): void {
    kernels.addTerms(count);
    const { maxima } = kernels;
    for (let i = 0; i < count; i++) this.upper[this.pendingSlots[i]!]! += maxima[i]!;
  }

  /** The distinct terms' slots, strongest first; `rest[i]`: the most the terms after the i-th can add together. */
  strongestFirst(): Int32Array {
    const { order, rest, upper, distinct } = this;
    for (let i = 0; i < distinct; i++) order[i] = i;
    sortBy(order, distinct, upper);
    for (let i = distinct - 1, sum = 0; i >= 0; i--) {
      rest[i] = sum;
      sum += upper[order[i]!]!;
    }
    return order;
  }

  reserve(distinct: number): void {
    if (distinct <= this.terms.length) return;
    const size = this.terms.length * 2;
    const terms = new Int32Array(size);
    const upper = new Float64Array(size);
    terms.set(this.terms);
    upper.set(this.upper);
    this.terms = terms;
    this.upper = upper;
    this.rest = new Float64Array(size);
    this.order = new Int32Array(size);
  }

  /** An empty TopK of capacity k (the last one again when k is the same). */
  topK(k: number): TopK {
    if (this.top?.capacity !== k) this.top = new TopK(k);
    this.top.clear();
    return this.top;
  }

  nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}

function maxOf(values: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

/**
 * The best k matches (score, then relevance, higher first; then the earlier document), in sorted
 * typed arrays: for rankers that add something to the BM25 relevance (the model index's popularity).
 */
export class TopK {
  private readonly documents: Int32Array;
  private readonly relevances: Float64Array;
  private readonly scores: Float64Array;
  private size = 0;

  private readonly k: number;

  constructor(k: number) {
    this.k = Number.isFinite(k) ? Math.max(0, Math.floor(k)) : 0;
    this.documents = new Int32Array(this.k);
    this.relevances = new Float64Array(this.k);
    this.scores = new Float64Array(this.k);
  }

  get full(): boolean {
    return this.size === this.k;
  }

  /** How many it keeps. */
  get capacity(): number {
    return this.k;
  }

  /** Forgets every match (to reuse the buffers for another query). */
  clear(): void {
    this.size = 0;
  }

  /** The score a match must reach to have a chance: the k-th best so far (−∞ until k are kept; +∞ when k is 0). */
  get worstScore(): number {
    if (this.k === 0) return Number.POSITIVE_INFINITY;
    return this.size === this.k ? this.scores[this.size - 1]! : Number.NEGATIVE_INFINITY;
  }

  /** Keeps the document if it ranks among the best k; returns whether it was kept. */
  offer(document: number, relevance: number, score: number): boolean {
    const { documents, relevances, scores } = this;
    if (this.k === 0) return false;
    let at = this.size;
    if (at === this.k && !this.before(document, relevance, score, at - 1)) return false;
    if (at === this.k) at--;
    while (at > 0 && this.before(document, relevance, score, at - 1)) {
      documents[at] = documents[at - 1]!;
      relevances[at] = relevances[at - 1]!;
      scores[at] = scores[at - 1]!;
      at--;
    }
    documents[at] = document;
    relevances[at] = relevance;
    scores[at] = score;
    if (this.size < this.k) this.size++;
    return true;
  }

  private before(document: number, relevance: number, score: number, index: number): boolean {
    const other = this.scores[index]!;
    if (score !== other) return score > other;
    const otherRelevance = this.relevances[index]!;
    if (relevance !== otherRelevance) return relevance > otherRelevance;
    return document < this.documents[index]!;
  }

  items(): Array<{ document: number; relevance: number; score: number }> {
    const items = new Array<{ document: number; relevance: number; score: number }>(this.size);
    for (let i = 0; i < this.size; i++) items[i] = { document: this.documents[i]!, relevance: this.relevances[i]!, score: this.scores[i]! };
    return items;
  }
}

function termList(terms: Map<string, number>): string[] {
  const list: string[] = new Array(terms.size);
  for (const [token, term] of terms) list[term] = token;
  return list;
}

function toBase64(array: Int32Array | Float32Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

/** Decodes into a fresh, 4-byte aligned ArrayBuffer (Buffer's pool may not be aligned). */
function fromBase64(text: string): ArrayBuffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0) throw new ValidationError({ subject: 'persisted BM25 index', issues: [{ path: '', message: 'truncated array' }] });
  const buffer = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return buffer;
}

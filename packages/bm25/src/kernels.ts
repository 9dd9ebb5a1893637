import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/** The part of the WebAssembly JavaScript API used here (the project compiles without the DOM library's types). */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: unknown;
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}

interface KernelExports {
  memory: WebAssembly.Memory;
  addPostings(documents: number, weights: number, scores: number, from: number, to: number): number;
  clearPostings(documents: number, scores: number, from: number, to: number): void;
  rankPostings(documents: number, scores: number, stamps: number, prior: number, skip: number, top: number, k: number, count: number, from: number, to: number, stamp: number): number;
  firstInvalidDocument(documents: number, count: number, limit: number): number;
}

/** Compiled once per process; `null` where WebAssembly is unavailable (e.g. `node --jitless`). */
let compiled: WebAssembly.Module | null | undefined;

function kernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    compiled = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  } catch {
    compiled = null;
  }
  return compiled;
}

/**
 * Whether indexes made from now on use the WebAssembly kernels (where available) or the same loops
 * in JavaScript: for tests that hold both paths to the same answers.
 */
export function useWebAssemblyKernels(enabled: boolean): void {
  compiled = enabled ? undefined : null;
}

const PAGE = 65536;
/** Wasm32 memory holds at most 65,536 pages (4 GiB); an index larger than that stays in JavaScript. */
const MAX_PAGES = 65536;

/**
 * An index's postings and per-query buffers in WebAssembly memory, with the loops of a query
 * (`kernels.wat`): adding a term's postings into the scores, ranking a term's documents into the
 * top k, clearing the scores. The arrays are views on that memory: JavaScript reads and writes them
 * as any typed array, and the memory never grows (views would be detached).
 */
export class PostingKernels {
  readonly documents: Int32Array;
  readonly weights: Float32Array;
  /** One double per document, all 0 between queries. */
  readonly scores: Float64Array;
  /** Per document: a prior and a skip flag that the index's owner fills (`Bm25Index.documentColumns`). */
  readonly prior: Float64Array;
  readonly skip: Uint8Array;
  /** The same for a query whose prior or skip flags are other arrays: copied here for that query. */
  private readonly priorCopy: Float64Array;
  private readonly skipCopy: Uint8Array;
  /** Per document: the query that last ranked it (`QueryScratch` numbers the queries). */
  readonly stamps: Uint32Array;
  /** The top k of the current query: relevances (k doubles), scores (k doubles), documents (k ints), from `top`. */
  private readonly topFloat: Float64Array;
  private readonly topInt: Int32Array;
  private readonly exports: KernelExports;
  private readonly at: { documents: number; weights: number; scores: number; prior: number; priorCopy: number; top: number; stamps: number; skip: number; skipCopy: number };

  private constructor(exports: KernelExports, at: PostingKernels['at'], postings: number, documentCount: number) {
    this.exports = exports;
    this.at = at;
    const { buffer } = exports.memory;
    this.documents = new Int32Array(buffer, at.documents, postings);
    this.weights = new Float32Array(buffer, at.weights, postings);
    this.scores = new Float64Array(buffer, at.scores, documentCount);
    this.prior = new Float64Array(buffer, at.prior, documentCount);
    this.priorCopy = new Float64Array(buffer, at.priorCopy, documentCount);
    this.topFloat = new Float64Array(buffer, at.top, 2 * documentCount);
    this.topInt = new Int32Array(buffer, at.top, 5 * documentCount);
    this.stamps = new Uint32Array(buffer, at.stamps, documentCount);
    this.skip = new Uint8Array(buffer, at.skip, documentCount);
    this.skipCopy = new Uint8Array(buffer, at.skipCopy, documentCount);
  }

  /**
   * Copies the postings into a fresh kernel memory, or returns undefined when WebAssembly is not
   * available or the index does not fit (callers then run the same loops in JavaScript).
   */
  static create(documents: Int32Array, weights: Float32Array, documentCount: number): PostingKernels | undefined {
    const module = kernelModule();
    if (!module) return undefined;
    const postings = documents.length;
    const n = documentCount;
    // Doubles first (8-byte aligned), then ints, then bytes.
    const base = postings * 8;
    const at = {
      documents: 0,
      weights: postings * 4,
      scores: base,
      prior: base + 8 * n,
      priorCopy: base + 16 * n,
      top: base + 24 * n,
      stamps: base + 44 * n,
      skip: base + 48 * n,
      skipCopy: base + 49 * n,
    };
    const pages = Math.ceil((base + 50 * n) / PAGE);
    if (pages > MAX_PAGES - 1) return undefined;
    let exports: KernelExports;
    try {
      exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
      exports.memory.grow(pages);
    } catch {
      // Out of memory for the copy: the JavaScript path reads the original arrays.
      return undefined;
    }
    const kernels = new PostingKernels(exports, at, postings, documentCount);
    kernels.documents.set(documents);
    kernels.weights.set(weights);
    return kernels;
  }

  /** Adds postings `from .. to` into `scores`; returns their largest weight (0 when none is positive). */
  addPostings(from: number, to: number): number {
    return this.exports.addPostings(this.at.documents, this.at.weights, this.at.scores, from, to);
  }

  /** Sets `scores` back to 0 for the documents of postings `from .. to`. */
  clearPostings(from: number, to: number): void {
    this.exports.clearPostings(this.at.documents, this.at.scores, from, to);
  }

  /**
   * Where a query's prior (or skip flags) are: the index's own column when given it, else a copy of
   * the array given (−1 for none). The copy is made for each query, so callers may change theirs.
   */
  priorAt(prior: Float64Array | undefined): number {
    if (prior === undefined) return -1;
    if (prior === this.prior) return this.at.prior;
    this.priorCopy.set(prior);
    return this.at.priorCopy;
  }

  skipAt(skip: Uint8Array | undefined): number {
    if (skip === undefined) return -1;
    if (skip === this.skip) return this.at.skip;
    this.skipCopy.set(skip);
    return this.at.skipCopy;
  }

  /**
   * Offers the documents of postings `from .. to` not ranked yet in this query and not skipped to
   * the top k (of which `count` are filled); returns how many are filled after.
   */
  rankPostings(from: number, to: number, stamp: number, priorAt: number, skipAt: number, k: number, count: number): number {
    const { at } = this;
    return this.exports.rankPostings(at.documents, at.scores, at.stamps, priorAt, skipAt, at.top, k, count, from, to, stamp);
  }

  /** The score of the k-th best (the top must be full). */
  worstScore(k: number): number {
    return this.topFloat[2 * k - 1]!;
  }

  /** The top's `count` entries, best first. */
  topItems(k: number, count: number): Array<{ document: number; relevance: number; score: number }> {
    const { topFloat, topInt } = this;
    const items = new Array<{ document: number; relevance: number; score: number }>(count);
    for (let i = 0; i < count; i++) items[i] = { document: topInt[4 * k + i]!, relevance: topFloat[i]!, score: topFloat[k + i]! };
    return items;
  }

  /** The first posting whose document is not below `limit`, or −1. */
  firstInvalidDocument(limit: number): number {
    return this.exports.firstInvalidDocument(this.at.documents, this.documents.length, limit);
  }
}

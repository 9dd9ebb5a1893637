import { open, readFile } from 'node:fs/promises';
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
  addTerms(documents: number, weights: number, scores: number, ranges: number, count: number, maxima: number): void;
  clearTerms(documents: number, scores: number, ranges: number, count: number): void;
  addTermsListed(documents: number, weights: number, scores: number, marks: number, touched: number, ranges: number, count: number, found: number): number;
  clearListed(scores: number, marks: number, touched: number, count: number): void;
  rankTerms(
    documents: number,
    scores: number,
    stamps: number,
    prior: number,
    skip: number,
    top: number,
    k: number,
    filled: number,
    ranges: number,
    rest: number,
    count: number,
    maxPrior: number,
    stamp: number,
    stopped: number,
  ): number;
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

/** A fresh instance of the kernels with at least `bytes` of memory; undefined when wasm32 cannot hold them or memory runs out. */
function instantiate(module: WebAssembly.Module, bytes: number): KernelExports | undefined {
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES - 1) return undefined;
  try {
    const exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
    exports.memory.grow(pages);
    return exports;
  } catch {
    return undefined;
  }
}

/** Kernel memories that readIndexFile read a file into (by their buffer), until an index adopts its postings there. */
const fileMemories = new WeakMap<object, { exports: KernelExports; bytes: number; adopted: boolean }>();

/**
 * Reads a binary index file into a fresh kernel memory, with room after it for an index's
 * per-query buffers, and returns its bytes there: a `Bm25Index` read from them (`readFrom`) keeps
 * its postings in place instead of copying them. A plain read where WebAssembly is unavailable.
 */
export async function readIndexFile(path: string): Promise<Buffer> {
  const module = kernelModule();
  if (!module) return readFile(path);
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    // The buffers take 55 bytes a document and 80 KB; a document costs a file at least its id's
    // offset (4 bytes) and postings, so the file's size again, plus 1 MiB, is room enough for the
    // indexes this package writes (others are copied, as an index built in memory is).
    const exports = instantiate(module, Math.ceil(size / 8) * 8 + size + (1 << 20));
    if (!exports) return await handle.readFile();
    const target = Buffer.from(exports.memory.buffer, 0, size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(target, read, size - read, read);
      // Shorter than its size a moment ago (truncated meanwhile): what is there, which the reader judges.
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    fileMemories.set(exports.memory.buffer, { exports, bytes: read, adopted: false });
    return target.subarray(0, read);
  } finally {
    await handle.close();
  }
}

/** Terms per kernel call (a longer query is handed over in parts). */
export const TERMS_PER_CALL = 4096;

/**
 * An index's postings and per-query buffers in WebAssembly memory, with a query's loops
 * (`kernels.wat`): adding its terms' postings into the scores, ranking its strongest terms'
 * documents into the top k (MaxScore), clearing the scores. The arrays are views on that memory:
 * JavaScript reads and writes them as any typed array, and the memory never grows (views would be
 * detached). Each loop is one call per query, its terms handed over as (from, to) posting ranges.
 */
export class PostingKernels {
  readonly documents: Int32Array;
  readonly weights: Float32Array;
  /** One double per document, all 0 between queries. */
  readonly scores: Float64Array;
  /** Per document: a prior and a skip flag that the index's owner fills (`Bm25Index.documentColumns`). */
  readonly prior: Float64Array;
  readonly skip: Uint8Array;
  /** Per document: the query that last ranked it (`QueryScratch` numbers the queries). */
  readonly stamps: Uint32Array;
  /** A call's terms: `ranges[2i]`, `ranges[2i + 1]` are term i's posting slots; `maxima[i]` its largest weight (out); `rest[i]` what the terms after it can add. */
  readonly ranges: Int32Array;
  readonly maxima: Float32Array;
  readonly rest: Float64Array;
  /** `withScores`' list of the documents a query matched (first `count` entries; room for one more than the documents). */
  readonly touched: Int32Array;
  /** The same as `prior` and `skip` for a query whose columns are other arrays: copied here for that query. */
  private readonly priorCopy: Float64Array;
  private readonly skipCopy: Uint8Array;
  /** The top k of the current query: relevances (k doubles), scores (k doubles), documents (k ints), from `top`. */
  private readonly topFloat: Float64Array;
  private readonly topInt: Int32Array;
  private readonly stoppedFlag: Int32Array;
  private readonly exports: KernelExports;
  private readonly at: Record<'documents' | 'weights' | 'scores' | 'prior' | 'priorCopy' | 'rest' | 'top' | 'stamps' | 'ranges' | 'maxima' | 'stopped' | 'touched' | 'skip' | 'skipCopy' | 'marks', number>;

  private constructor(exports: KernelExports, at: PostingKernels['at'], postings: number, documentCount: number) {
    this.exports = exports;
    this.at = at;
    const { buffer } = exports.memory;
    const n = documentCount;
    this.documents = new Int32Array(buffer, at.documents, postings);
    this.weights = new Float32Array(buffer, at.weights, postings);
    this.scores = new Float64Array(buffer, at.scores, n);
    this.prior = new Float64Array(buffer, at.prior, n);
    this.priorCopy = new Float64Array(buffer, at.priorCopy, n);
    this.rest = new Float64Array(buffer, at.rest, TERMS_PER_CALL);
    this.topFloat = new Float64Array(buffer, at.top, 2 * n);
    this.topInt = new Int32Array(buffer, at.top, 5 * n);
    this.stamps = new Uint32Array(buffer, at.stamps, n);
    this.ranges = new Int32Array(buffer, at.ranges, 2 * TERMS_PER_CALL);
    this.maxima = new Float32Array(buffer, at.maxima, TERMS_PER_CALL);
    this.stoppedFlag = new Int32Array(buffer, at.stopped, 1);
    this.touched = new Int32Array(buffer, at.touched, n + 1);
    this.skip = new Uint8Array(buffer, at.skip, n);
    this.skipCopy = new Uint8Array(buffer, at.skipCopy, n);
  }

  /**
   * Copies the postings into a fresh kernel memory, or returns undefined when WebAssembly is not
   * available or the index does not fit (callers then run the same loops in JavaScript).
   */
  static create(documents: Int32Array, weights: Float32Array, documentCount: number): PostingKernels | undefined {
    const module = kernelModule();
    if (!module) return undefined;
    const postings = documents.length;
    // Postings read into a kernel memory by readIndexFile stay where they are: only the buffers are placed after the file.
    const file = fileMemories.get(documents.buffer);
    if (file && !file.adopted && weights.buffer === documents.buffer && documents.byteOffset % 4 === 0 && weights.byteOffset % 4 === 0) {
      const at = PostingKernels.layout(documents.byteOffset, weights.byteOffset, Math.ceil(file.bytes / 8) * 8, documentCount);
      if (at.end <= file.exports.memory.buffer.byteLength) {
        file.adopted = true;
        return new PostingKernels(file.exports, at, postings, documentCount);
      }
    }
    const at = PostingKernels.layout(0, postings * 4, postings * 8, documentCount);
    const exports = instantiate(module, at.end);
    // Too large, or out of memory for the copy: the JavaScript path reads the original arrays.
    if (!exports) return undefined;
    const kernels = new PostingKernels(exports, at, postings, documentCount);
    kernels.documents.set(documents);
    kernels.weights.set(weights);
    return kernels;
  }

  /** Where each array goes: the postings at the offsets given, the per-query buffers from `start` (8-byte aligned) on. */
  private static layout(documents: number, weights: number, start: number, n: number): PostingKernels['at'] & { end: number } {
    const terms = TERMS_PER_CALL;
    const at = { documents, weights } as PostingKernels['at'] & { end: number };
    let end = start;
    // Doubles first (8-byte aligned), then 4-byte values, then bytes.
    const place = (name: keyof PostingKernels['at'], bytes: number) => {
      at[name] = end;
      end += bytes;
    };
    place('scores', 8 * n);
    place('prior', 8 * n);
    place('priorCopy', 8 * n);
    place('rest', 8 * terms);
    place('top', 20 * n);
    place('stamps', 4 * n);
    place('ranges', 8 * terms);
    place('maxima', 4 * terms);
    place('stopped', 4);
    place('touched', 4 * (n + 1));
    place('skip', n);
    place('skipCopy', n);
    place('marks', n);
    at.end = end;
    return at;
  }

  /** Adds the postings of `ranges` 0 .. count into `scores`, in order; each range's largest weight (0 when none is positive) to `maxima`. */
  addTerms(count: number): void {
    const { at } = this;
    this.exports.addTerms(at.documents, at.weights, at.scores, at.ranges, count, at.maxima);
  }

  /** Sets `scores` back to 0 for the documents of `ranges` 0 .. count. */
  clearTerms(count: number): void {
    const { at } = this;
    this.exports.clearTerms(at.documents, at.scores, at.ranges, count);
  }

  /**
   * Adds the postings of `ranges` 0 .. count into `scores` and lists each document met for the
   * first time in `touched` after the `found` listed already; returns how many are listed.
   */
  addTermsListed(count: number, found: number): number {
    const { at } = this;
    return this.exports.addTermsListed(at.documents, at.weights, at.scores, at.marks, at.touched, at.ranges, count, found);
  }

  /** Clears the scores (and marks) of the first `count` listed documents. */
  clearListed(count: number): void {
    const { at } = this;
    this.exports.clearListed(at.scores, at.marks, at.touched, count);
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
   * Ranks the documents of `ranges` 0 .. count (strongest term first; `rest[i]`: what the terms
   * after the i-th can add) into the top k, of which `filled` are filled, until the rest plus
   * `maxPrior` cannot reach the k-th best (then `stopped` is true). Returns how many are filled.
   */
  rankTerms(k: number, filled: number, count: number, maxPrior: number, stamp: number, priorAt: number, skipAt: number): number {
    const { at } = this;
    return this.exports.rankTerms(at.documents, at.scores, at.stamps, priorAt, skipAt, at.top, k, filled, at.ranges, at.rest, count, maxPrior, stamp, at.stopped);
  }

  /** Whether the last `rankTerms` stopped at the bound (the terms after it need no ranking). */
  get stopped(): boolean {
    return this.stoppedFlag[0] === 1;
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

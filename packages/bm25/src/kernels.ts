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
 * An index's postings and score buffer in WebAssembly memory, with the loop that adds a term's
 * postings into the scores (`kernels.wat`). The arrays are views on that memory: JavaScript reads
 * and writes them as any typed array, and the memory never grows (views would be detached).
 */
export class PostingKernels {
  readonly documents: Int32Array;
  readonly weights: Float32Array;
  /** One double per document, all 0 between queries. */
  readonly scores: Float64Array;
  private readonly exports: KernelExports;
  private readonly documentsAt: number;
  private readonly weightsAt: number;
  private readonly scoresAt: number;

  private constructor(exports: KernelExports, postings: number, documentCount: number) {
    this.exports = exports;
    this.documentsAt = 0;
    this.weightsAt = postings * 4;
    this.scoresAt = Math.ceil((postings * 8) / 8) * 8;
    const { buffer } = exports.memory;
    this.documents = new Int32Array(buffer, this.documentsAt, postings);
    this.weights = new Float32Array(buffer, this.weightsAt, postings);
    this.scores = new Float64Array(buffer, this.scoresAt, documentCount);
  }

  /**
   * Copies the postings into a fresh kernel memory, or returns undefined when WebAssembly is not
   * available or the index does not fit (callers then run the same loop in JavaScript).
   */
  static create(documents: Int32Array, weights: Float32Array, documentCount: number): PostingKernels | undefined {
    const module = kernelModule();
    if (!module) return undefined;
    const bytes = documents.length * 8 + documentCount * 8;
    const pages = Math.ceil(bytes / PAGE);
    if (pages > MAX_PAGES - 1) return undefined;
    let exports: KernelExports;
    try {
      exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
      exports.memory.grow(pages);
    } catch {
      // Out of memory for the copy: the JavaScript path reads the original arrays.
      return undefined;
    }
    const kernels = new PostingKernels(exports, documents.length, documentCount);
    kernels.documents.set(documents);
    kernels.weights.set(weights);
    return kernels;
  }

  /** Adds postings `from .. to` into `scores`; returns their largest weight (0 when none is positive). */
  addPostings(from: number, to: number): number {
    return this.exports.addPostings(this.documentsAt, this.weightsAt, this.scoresAt, from, to);
  }

  /** The first posting whose document is not below `limit`, or −1. */
  firstInvalidDocument(limit: number): number {
    return this.exports.firstInvalidDocument(this.documentsAt, this.documents.length, limit);
  }
}

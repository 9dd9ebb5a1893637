import { InvalidArgumentError } from '@prompt2model/core/internal';
import { mix32, normalizeText } from './text.js';

export interface NearDuplicateIndexOptions {
  /** Character n-gram (shingle) length over the normalised text. Default 5. */
  ngramSize?: number;
  /** MinHash functions per text. Default 64. */
  numHashes?: number;
  /** LSH bands; `numHashes` must divide evenly. Default 16 (4 rows each: finds pairs above ~0.5 Jaccard). */
  bands?: number;
  /** Estimated Jaccard similarity at or above which two texts are near-duplicates. Default 0.8. */
  threshold?: number;
  seed?: number;
}

export interface NearDuplicateMatch {
  /** Id returned by `add` for the matching text. */
  id: number;
  /** Estimated Jaccard similarity of the character n-gram sets, in [0, 1]. */
  similarity: number;
}

/**
 * Near-duplicate detection by MinHash over character n-grams, with locality-sensitive hashing so
 * a lookup touches only likely matches. Texts themselves are not kept: each costs `numHashes` 32-bit
 * integers plus one bucket entry per band, so 100,000 texts take a few tens of megabytes.
 */
export class NearDuplicateIndex {
  readonly ngramSize: number;
  readonly numHashes: number;
  readonly bands: number;
  readonly rows: number;
  readonly threshold: number;
  private readonly seeds: Uint32Array;
  private signatures: Uint32Array;
  private count = 0;
  // Bucket key (band and its rows, hashed) → ids of the texts in that bucket.
  private readonly buckets = new IntMultiMap();

  constructor(options: NearDuplicateIndexOptions = {}) {
    this.ngramSize = options.ngramSize ?? 5;
    this.numHashes = options.numHashes ?? 64;
    this.bands = options.bands ?? 16;
    this.threshold = options.threshold ?? 0.8;
    if (!(this.ngramSize >= 1)) throw new InvalidArgumentError({ argument: 'ngramSize', value: this.ngramSize, expected: 'at least 1' });
    if (this.numHashes % this.bands !== 0) throw new InvalidArgumentError({ argument: 'numHashes', value: this.numHashes, expected: `a multiple of bands (${this.bands})` });
    if (!(this.threshold >= 0 && this.threshold <= 1)) throw new InvalidArgumentError({ argument: 'threshold', value: this.threshold, expected: 'in [0, 1]' });
    this.rows = this.numHashes / this.bands;
    const seed = options.seed ?? 0x5eed;
    this.seeds = new Uint32Array(this.numHashes);
    for (let i = 0; i < this.numHashes; i++) this.seeds[i] = mix32(seed + Math.imul(i + 1, 0x9e3779b9));
    this.signatures = new Uint32Array(this.numHashes * 64);
  }

  /** Number of texts added. */
  get size(): number {
    return this.count;
  }

  /** The MinHash signature of a text. */
  signature(text: string): Uint32Array {
    const normalized = normalizeText(text);
    const signature = new Uint32Array(this.numHashes).fill(0xffffffff);
    const n = this.ngramSize;
    const last = Math.max(0, normalized.length - n);
    for (let start = 0; start <= last; start++) {
      // FNV-1a of the n code units at `start`, without slicing out a string per shingle.
      let shingle = 0x811c9dc5;
      const end = Math.min(normalized.length, start + n);
      for (let i = start; i < end; i++) shingle = Math.imul(shingle ^ normalized.charCodeAt(i), 0x01000193);
      shingle >>>= 0;
      for (let i = 0; i < this.numHashes; i++) {
        const value = mix32(shingle ^ this.seeds[i]!);
        if (value < signature[i]!) signature[i] = value;
      }
    }
    return signature;
  }

  /** Adds a text (or its signature); returns its id (0, 1, 2, ... in order of addition). */
  add(text: string | Uint32Array): number {
    const signature = typeof text === 'string' ? this.signature(text) : text;
    const id = this.count++;
    if (this.signatures.length < this.count * this.numHashes) {
      const grown = new Uint32Array(this.signatures.length * 2);
      grown.set(this.signatures);
      this.signatures = grown;
    }
    this.signatures.set(signature, id * this.numHashes);
    for (let band = 0; band < this.bands; band++) this.buckets.add(this.bandKey(signature, band), id);
    return id;
  }

  /**
   * The most similar indexed text at or above the threshold, or undefined. `accept` limits the
   * search to some ids (e.g. those added before a point in time).
   */
  findNearDuplicate(
    text: string | Uint32Array,
    options: { threshold?: number; accept?: (id: number) => boolean } = {},
  ): NearDuplicateMatch | undefined {
    const signature = typeof text === 'string' ? this.signature(text) : text;
    const threshold = options.threshold ?? this.threshold;
    let best: NearDuplicateMatch | undefined;
    const seen: number[] = [];
    for (let band = 0; band < this.bands; band++) {
      this.buckets.forEach(this.bandKey(signature, band), (id) => {
        if (seen.includes(id)) return;
        seen.push(id);
        if (options.accept && !options.accept(id)) return;
        const similarity = this.similarityTo(signature, id);
        if (similarity >= threshold && (!best || similarity > best.similarity)) best = { id, similarity };
      });
    }
    return best;
  }

  /** Estimated Jaccard similarity of two texts' n-gram sets. */
  similarity(a: string, b: string): number {
    return estimateSimilarity(this.signature(a), this.signature(b));
  }

  private similarityTo(signature: Uint32Array, id: number): number {
    const offset = id * this.numHashes;
    let equal = 0;
    for (let i = 0; i < this.numHashes; i++) if (this.signatures[offset + i] === signature[i]) equal++;
    return equal / this.numHashes;
  }

  private bandKey(signature: Uint32Array, band: number): number {
    let hash = mix32(band + 1);
    const start = band * this.rows;
    for (let i = start; i < start + this.rows; i++) hash = mix32(hash ^ signature[i]!) + i;
    // 30 bits: small-integer keys, which V8 stores inline instead of as boxed numbers. Collisions
    // only add candidates, which the signature comparison then rejects.
    return hash & 0x3fffffff;
  }
}

/**
 * Integer key → integer values, in typed arrays (a chained hash table): millions of bucket entries
 * cost about 20 bytes each, outside the JavaScript heap, instead of a Map's boxed entries.
 */
class IntMultiMap {
  private heads = new Int32Array(1024).fill(-1);
  private keys = new Int32Array(1024);
  private values = new Int32Array(1024);
  private next = new Int32Array(1024);
  private count = 0;

  add(key: number, value: number): void {
    if (this.count === this.keys.length) {
      this.keys = grow(this.keys);
      this.values = grow(this.values);
      this.next = grow(this.next);
    }
    if (this.count >= this.heads.length) this.rehash(this.heads.length * 2);
    const entry = this.count++;
    const slot = key & (this.heads.length - 1);
    this.keys[entry] = key;
    this.values[entry] = value;
    this.next[entry] = this.heads[slot]!;
    this.heads[slot] = entry;
  }

  forEach(key: number, visit: (value: number) => void): void {
    for (let entry = this.heads[key & (this.heads.length - 1)]!; entry !== -1; entry = this.next[entry]!) {
      if (this.keys[entry] === key) visit(this.values[entry]!);
    }
  }

  private rehash(size: number): void {
    this.heads = new Int32Array(size).fill(-1);
    // Entries are re-linked oldest first, so each chain stays newest-first as before.
    for (let entry = 0; entry < this.count; entry++) {
      const slot = this.keys[entry]! & (size - 1);
      this.next[entry] = this.heads[slot]!;
      this.heads[slot] = entry;
    }
  }
}

function grow(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

/** Share of equal positions of two MinHash signatures: an estimate of Jaccard similarity. */
export function estimateSimilarity(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new InvalidArgumentError({ argument: 'b', value: b.length, expected: `a signature as long as the first (${a.length})` });
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return a.length === 0 ? 0 : equal / a.length;
}

/** Exact Jaccard similarity of two texts' character n-gram sets (for tests and small sets). */
export function ngramJaccard(a: string, b: string, ngramSize = 5): number {
  const grams = (text: string) => {
    const normalized = normalizeText(text);
    const out = new Set<string>();
    const last = Math.max(0, normalized.length - ngramSize);
    for (let start = 0; start <= last; start++) out.add(normalized.slice(start, start + ngramSize));
    return out;
  };
  const left = grams(a);
  const right = grams(b);
  let shared = 0;
  for (const gram of left) if (right.has(gram)) shared++;
  const union = left.size + right.size - shared;
  return union === 0 ? 1 : shared / union;
}

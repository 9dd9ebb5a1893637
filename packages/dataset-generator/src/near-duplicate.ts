import { fnv1a32, mix32, normalizeText } from './text.js';

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
  // Bucket key (band and its rows, hashed) → id, or ids when several texts share the bucket.
  private readonly buckets = new Map<number, number | number[]>();

  constructor(options: NearDuplicateIndexOptions = {}) {
    this.ngramSize = options.ngramSize ?? 5;
    this.numHashes = options.numHashes ?? 64;
    this.bands = options.bands ?? 16;
    this.threshold = options.threshold ?? 0.8;
    if (this.ngramSize < 1) throw new RangeError('ngramSize must be at least 1');
    if (this.numHashes % this.bands !== 0) throw new RangeError('numHashes must be a multiple of bands');
    if (this.threshold < 0 || this.threshold > 1) throw new RangeError('threshold must be in [0, 1]');
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
      const shingle = fnv1a32(normalized.slice(start, start + n));
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
    for (let band = 0; band < this.bands; band++) {
      const key = this.bandKey(signature, band);
      const existing = this.buckets.get(key);
      if (existing === undefined) this.buckets.set(key, id);
      else if (typeof existing === 'number') this.buckets.set(key, [existing, id]);
      else existing.push(id);
    }
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
    const seen = new Set<number>();
    for (let band = 0; band < this.bands; band++) {
      const entry = this.buckets.get(this.bandKey(signature, band));
      if (entry === undefined) continue;
      const ids = typeof entry === 'number' ? [entry] : entry;
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        if (options.accept && !options.accept(id)) continue;
        const similarity = this.similarityTo(signature, id);
        if (similarity >= threshold && (!best || similarity > best.similarity)) best = { id, similarity };
      }
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
    return hash >>> 0;
  }
}

/** Share of equal positions of two MinHash signatures: an estimate of Jaccard similarity. */
export function estimateSimilarity(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new RangeError('signatures differ in length');
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

/**
 * The index's vocabulary: term → term id, over all the terms kept end to end in one string (as the
 * binary index file stores them: the text plus each term's end offset). An open-addressing hash
 * table of term ids in an Int32Array, so loading an index with 40,000+ terms creates no string and
 * no map entry per term (a Map of that many strings cost most of a load, and the first garbage
 * collection after it copied them all); a lookup hashes the token and compares characters in place.
 */
export class TermTable {
  /** Number of terms. */
  readonly size: number;
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly starts: Int32Array;

  /**
   * `ends[i]` is where term i ends in `text` (UTF-16 offsets, ascending). `fail` is called for a
   * term list that cannot be one (offsets out of order, a term listed twice).
   */
  constructor(
    readonly text: string,
    readonly ends: Int32Array,
    fail: (message: string) => never,
  ) {
    const count = ends.length;
    this.size = count;
    let capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.starts = new Int32Array(count);
    let start = 0;
    for (let term = 0; term < count; term++) {
      const end = ends[term]!;
      if (end < start || end > text.length) fail('has term offsets out of order');
      this.starts[term] = start;
      let slot = hashRange(text, start, end) & this.mask;
      for (let other = this.slots[slot]!; other !== -1; other = this.slots[slot]!) {
        if (this.equals(other, text, start, end)) fail(`lists the term "${text.slice(start, end)}" twice`);
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = term;
      start = end;
    }
  }

  static fromList(terms: readonly string[], fail: (message: string) => never): TermTable {
    const ends = new Int32Array(terms.length);
    let end = 0;
    for (let i = 0; i < terms.length; i++) ends[i] = end += terms[i]!.length;
    return new TermTable(terms.join(''), ends, fail);
  }

  /** The term's id, or −1 when the index does not have it. */
  id(token: string): number {
    const { slots, mask } = this;
    let slot = hashRange(token, 0, token.length) & mask;
    for (let term = slots[slot]!; term !== -1; term = slots[slot]!) {
      if (this.equals(term, token, 0, token.length)) return term;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** Term `term` as a string. */
  term(term: number): string {
    return this.text.slice(this.starts[term]!, this.ends[term]!);
  }

  list(): string[] {
    return Array.from({ length: this.size }, (_, term) => this.term(term));
  }

  /** Whether term `term` equals `source[start .. end)`. */
  private equals(term: number, source: string, start: number, end: number): boolean {
    const from = this.starts[term]!;
    if (this.ends[term]! - from !== end - start) return false;
    const { text } = this;
    for (let i = 0; i < end - start; i++) if (text.charCodeAt(from + i) !== source.charCodeAt(start + i)) return false;
    return true;
  }
}

/** FNV-1a over UTF-16 code units. */
function hashRange(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

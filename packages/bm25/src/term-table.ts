/**
 * The index's vocabulary: term → term id, over all the terms kept end to end in one string (as the
 * binary index file stores them: the text plus each term's end offset). An open-addressing hash
 * table of term ids in an Int32Array, so an index with 40,000+ terms has no string and no map entry
 * per term (a Map of that many strings cost most of a load, and the first garbage collection after
 * it copied them all); a lookup hashes the token and compares characters in place.
 *
 * The table itself (`slots`) is saved with the index, so a load does no hashing. Its layout is part
 * of the file format: FNV-1a over UTF-16 code units, linear probing, a power-of-two capacity of at
 * least 16 and twice the term count, terms inserted in id order. Changing any of it needs a new
 * section name.
 */
export class TermTable {
  /** Number of terms. */
  readonly size: number;
  /** Term id per hash slot, −1 when empty. */
  readonly slots: Int32Array;
  private readonly mask: number;

  /**
   * `ends[i]` is where term i ends in `text` (UTF-16 offsets, ascending: `BinaryFileReader.packedStrings`
   * checks that). `slots`: the table as saved, checked instead of rebuilt. `fail` is called for a
   * term list or table that cannot be one (a term listed twice, a slot naming no term).
   */
  constructor(
    readonly text: string,
    readonly ends: Int32Array,
    fail: (message: string) => never,
    slots?: Int32Array,
  ) {
    const count = ends.length;
    this.size = count;
    let capacity = 16;
    while (capacity < count * 2) capacity *= 2;
    this.mask = capacity - 1;
    if (slots) {
      if (slots.length !== capacity) fail('has a term table of the wrong size');
      let used = 0;
      for (let slot = 0; slot < capacity; slot++) {
        const term = slots[slot]!;
        if (term < -1 || term >= count) fail('has a term table naming a term that does not exist');
        if (term !== -1) used++;
      }
      if (used !== count) fail('has a term table that does not hold every term once');
      this.slots = slots;
      return;
    }
    this.slots = new Int32Array(capacity).fill(-1);
    for (let term = 0, start = 0; term < count; term++) {
      const end = ends[term]!;
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
    // Hashing and comparing inline (not through hashRange and equals): one function for V8 to
    // optimise, early, rather than three, each optimised late in some query.
    const { slots, mask, text, ends } = this;
    const length = token.length;
    let hash = 0x811c9dc5;
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
    let slot = (hash >>> 0) & mask;
    for (let term = slots[slot]!; term !== -1; term = slots[slot]!) {
      const from = term === 0 ? 0 : ends[term - 1]!;
      if (ends[term]! - from === length) {
        let i = 0;
        while (i < length && text.charCodeAt(from + i) === token.charCodeAt(i)) i++;
        if (i === length) return term;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** Term `term` as a string. */
  term(term: number): string {
    return this.text.slice(term === 0 ? 0 : this.ends[term - 1]!, this.ends[term]!);
  }

  list(): string[] {
    return Array.from({ length: this.size }, (_, term) => this.term(term));
  }

  /** Whether term `term` equals `source[start .. end)`. */
  private equals(term: number, source: string, start: number, end: number): boolean {
    const from = term === 0 ? 0 : this.ends[term - 1]!;
    if (this.ends[term]! - from !== end - start) return false;
    const { text } = this;
    for (let i = 0; i < end - start; i++) if (text.charCodeAt(from + i) !== source.charCodeAt(start + i)) return false;
    return true;
  }
}

/** FNV-1a over UTF-16 code units (`id` has the same loop inline). */
function hashRange(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Text normalisation and hashing shared by dedup, voting and decontamination. One definition of
 * "the same text", so an input that counts as a duplicate also counts as the same vote.
 */

import { fnv1a32, seededRandom } from '@prompt2model/core/internal';

// The seeded PRNG and FNV-1a hash live in core (shared with the test servers); re-exported for this package.
export { fnv1a32, seededRandom };

/** Unicode-compatible, case-folded, whitespace-collapsed, trimmed form of a text. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * A looser key for comparing answers: normalised, with surrounding quotes and trailing sentence
 * punctuation removed (`"Positive."` and `positive` are the same vote).
 */
export function answerKey(text: string): string {
  // Quotes and a final period in either order: `"2024-03-05".` and `"2024-03-05."` are one answer.
  return normalizeText(text)
    .replace(/[.!?。！？]+$/u, '')
    .replace(/^["'`“”‘’«»]+|["'`“”‘’«»]+$/gu, '')
    .replace(/[.!?。！？]+$/u, '')
    .trim();
}

/** Words of a normalised text (letters, digits and marks; punctuation dropped). */
export function words(text: string): string[] {
  return normalizeText(text).match(/[\p{L}\p{N}\p{M}_]+/gu) ?? [];
}


/** A 52-bit numeric hash (two independent 32-bit hashes), safe as a Set<number> key. */
export function hash52(text: string): number {
  const high = fnv1a32(text, 0x811c9dc5) & 0xfffff;
  const low = fnv1a32(text, 0x9747b28c);
  return high * 0x100000000 + low;
}

/** Murmur3's 32-bit finaliser: spreads the bits of a 32-bit integer. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}


/** Fisher-Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `count` distinct items drawn uniformly with `random` (all of them when there are fewer). */
export function sampleWithoutReplacement<T>(items: readonly T[], count: number, random: () => number): T[] {
  if (count >= items.length) return shuffled(items, random);
  const picked = new Set<number>();
  const out: T[] = [];
  while (out.length < count) {
    const index = Math.floor(random() * items.length);
    if (picked.has(index)) continue;
    picked.add(index);
    out.push(items[index]!);
  }
  return out;
}

/**
 * The key of a structured (JSON) answer: the parsed value with object keys sorted and string
 * values compared by `answerKey`, so `{"a": 1, "b": "X"}` and `{ "b": "x", "a": 1 }` are one vote.
 * Text that is not JSON falls back to `answerKey`.
 */
export function structuredAnswerKey(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)```$/iu.exec(trimmed);
  try {
    return JSON.stringify(canonicalJson(JSON.parse(fenced ? fenced[1]! : trimmed)));
  } catch {
    return answerKey(text);
  }
}

function canonicalJson(value: unknown): unknown {
  if (typeof value === 'string') return answerKey(value);
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = canonicalJson((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

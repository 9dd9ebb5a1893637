import { createHash, type Hash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always serialise (and hash) the same. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * SHA-256 of a value, independent of object key order. Walks the value and feeds the hash piece
 * by piece (length-prefixed, so no two values collide by concatenation) instead of building a
 * sorted copy and one large JSON string: this runs on every LLM call, with prompts of many KB.
 */
export function hashValue(value: unknown): string {
  const hash = createHash('sha256');
  feed(hash, value);
  return hash.digest('hex');
}

function feed(hash: Hash, value: unknown): void {
  if (value === null || value === undefined) {
    hash.update('n');
  } else if (typeof value === 'string') {
    hash.update(`s${value.length}:`);
    hash.update(value);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    hash.update(`d${String(value)};`);
  } else if (typeof value === 'boolean') {
    hash.update(value ? 't' : 'f');
  } else if (Array.isArray(value)) {
    hash.update(`a${value.length}[`);
    for (const item of value) feed(hash, item);
    hash.update(']');
  } else if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    hash.update(`o${keys.length}{`);
    for (const key of keys) {
      hash.update(`k${key.length}:${key}`);
      feed(hash, record[key]);
    }
    hash.update('}');
  } else {
    hash.update(`x${String(value)}`);
  }
}

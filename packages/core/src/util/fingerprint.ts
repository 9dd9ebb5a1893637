import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';

/**
 * A file's content fingerprint (`sha256:<hex>`), or `missing`. Streamed, so a large dataset costs
 * a read, not its size in memory. What a run step records of the files it wrote and read.
 */
export async function fingerprintFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A value reduced to what can be hashed as a step input: functions and class instances (an index
 * object, a translator) become their kind, so options holding them still fingerprint stably.
 */
export function hashableOptions(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value !== 'object') return value;
  if (depth > 6) return '[deep]';
  if (Array.isArray(value)) return value.map((item) => hashableOptions(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== null && prototype !== Object.prototype) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    const id = (value as { name?: unknown; modelId?: unknown }).modelId ?? (value as { name?: unknown }).name;
    return `[${name}${typeof id === 'string' ? ` ${id}` : ''}]`;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (/(key|token|secret|password|authorization)/i.test(key)) continue;
    out[key] = hashableOptions(item, depth + 1);
  }
  return out;
}

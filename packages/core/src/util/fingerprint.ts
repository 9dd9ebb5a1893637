import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

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
 * The fingerprint of a file (its content) or a folder (`sha256:<hex>`), or `missing`. A folder's
 * covers every file under it by relative name, size and modification time, not content: a model
 * folder can hold gigabytes, and a deleted, added, truncated or rewritten file changes it all the
 * same. Left out: `README.md` (the model card, rewritten with the test metrics after evaluation; it
 * describes the model, it is not part of it) and temporary files (`.tmp`, `.partial`, `.lock`) that
 * come and go while a writer works.
 */
export async function fingerprintPath(path: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (!info.isDirectory()) return fingerprintFile(path);
  const hash = createHash('sha256');
  hash.update('folder\n');
  for (const relative of await listFiles(path)) {
    const file = await stat(join(path, relative));
    hash.update(`${relative}\0${file.size}\0${Math.round(file.mtimeMs)}\n`);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)));
    else if (entry.isFile() && entry.name !== 'README.md' && !/\.(tmp|partial|lock)$/.test(entry.name)) files.push(relative);
  }
  return files;
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

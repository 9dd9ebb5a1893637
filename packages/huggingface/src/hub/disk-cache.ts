import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeJsonAtomic } from '@prompt2model/core/internal';

/** A cached JSON file, or undefined when absent or unreadable (a cache miss, never an error). */
export async function readCachedJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes a cache file atomically, creating its folder. */
export async function writeCachedJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeJsonAtomic(path, value);
}

import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtomicJsonlWriter, JsonlWriter } from '../src/internal.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-jsonl-'));
  dirs.push(dir);
  return dir;
};

// Rows whose text is ASCII, two-byte, three-byte and surrogate-pair UTF-8, with characters JSON escapes.
const rows = Array.from({ length: 2500 }, (_, i) => ({
  input: i % 4 === 0 ? `plain ${i}\n"quoted"` : i % 4 === 1 ? `café ${i}` : i % 4 === 2 ? `日本語の文 ${i}`.repeat(1 + (i % 7)) : `emoji 😀 ${i}\t\u0001`,
  output: String(i),
  meta: { row: i, big: '12345678901234567890', nested: [1, null, { x: 'ü' }] },
}));
const expected = rows.map((row) => `${JSON.stringify(row)}\n`).join('');

describe('JSON Lines writers', () => {
  it('writeAll writes the same bytes as JSON.stringify a line at a time, whatever the characters', async () => {
    const path = join(await tempDir(), 'plain.jsonl');
    const writer = await JsonlWriter.open(path, { truncate: true });
    await writer.writeAll(rows.slice(0, 1000));
    await writer.writeAll([]);
    await writer.writeAll(rows.slice(1000));
    await writer.close();
    expect(await readFile(path, 'utf8')).toBe(expected);
  });

  it('the atomic writer keeps batch order while writing behind the caller, and shows nothing before commit', async () => {
    const dir = await tempDir();
    const path = join(dir, 'atomic.jsonl');
    const writer = await AtomicJsonlWriter.open(path);
    // Batches handed on without waiting for the disk, then the caller reuses its array.
    const batch: unknown[] = [];
    for (let i = 0; i < rows.length; i++) {
      batch.push(rows[i]);
      if (batch.length === 300 || i === rows.length - 1) {
        await writer.writeAll(batch);
        batch.length = 0;
      }
    }
    expect(await readdir(dir)).toEqual([expect.stringMatching(/^atomic\.jsonl\..*\.tmp$/)]);
    await writer.commit();
    expect(await readdir(dir)).toEqual(['atomic.jsonl']);
    expect(await readFile(path, 'utf8')).toBe(expected);
  });

  it('a write that fails is reported by the next call, and discard leaves no file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'broken.jsonl');
    const writer = await AtomicJsonlWriter.open(path);
    await writer.writeAll(rows.slice(0, 10));
    // Closing the handle under the writer makes its next disk write fail.
    await (writer as unknown as { writer: JsonlWriter }).writer.close();
    await writer.writeAll(rows.slice(10, 20));
    await expect(writer.commit()).rejects.toThrow();
    await writer.discard();
    expect(await readdir(dir)).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileKernels } from '../scripts/compile-wasm.mjs';
import { BinaryFileReader, BinaryFileWriter, Bm25Index, readIndexFile } from '../src/index.js';
import { useWebAssemblyKernels } from '../src/kernels.js';
import { KERNELS_WASM_BASE64 } from '../src/kernels-wasm.js';

function corpus(seed: number, documents: number): { index: Bm25Index; queries: string[] } {
  let state = seed >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const words = Array.from({ length: 300 }, (_, i) => `w${i.toString(36)}x`);
  const word = () => words[Math.min(words.length - 1, Math.floor(words.length * random() ** 3))]!;
  const index = new Bm25Index();
  for (let d = 0; d < documents; d++) index.add(`doc-${d}`, Array.from({ length: 1 + Math.floor(random() * 40) }, word).join(' '));
  const queries = Array.from({ length: 60 }, () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => words[Math.floor(random() * (random() < 0.5 ? 20 : 300))]!).join(' '));
  return { index, queries };
}

function usesKernels(index: Bm25Index): boolean {
  return (index as unknown as { kernels?: object }).kernels !== undefined;
}

describe('the WebAssembly kernels', () => {
  afterEach(() => useWebAssemblyKernels(true));

  it('ship the bytes kernels.wat compiles to (run `npm run build:wasm -w @prompt2model/bm25` after editing it)', async () => {
    const wat = readFileSync(new URL('../src/kernels.wat', import.meta.url), 'utf8');
    expect(Buffer.from(await compileKernels(wat)).toString('base64')).toBe(KERNELS_WASM_BASE64);
  });

  it('rank and score as the JavaScript loops do, bit for bit, with a prior and skipped documents', () => {
    const withKernels = corpus(3, 1500);
    useWebAssemblyKernels(false);
    const plain = corpus(3, 1500);
    // The postings find their place when the index is consolidated (its first search, here).
    plain.index.consolidate();
    useWebAssemblyKernels(true);
    const prior = Float64Array.from({ length: 1500 }, (_, i) => ((i * 7919) % 1000) / 2000);
    const skip = Uint8Array.from({ length: 1500 }, (_, i) => (i % 13 === 0 ? 1 : 0));
    for (const query of withKernels.queries) {
      for (const k of [1, 5, 50]) {
        const expected = plain.index.topMatches(query, k, { prior, skip });
        expect(withKernels.index.topMatches(query, k, { prior, skip })).toEqual(expected);
        expect(withKernels.index.topMatches(query, k)).toEqual(plain.index.topMatches(query, k));
      }
      expect(withKernels.index.scoreAll(query)).toEqual(plain.index.scoreAll(query));
    }
    expect(usesKernels(withKernels.index)).toBe(true);
    expect(usesKernels(plain.index)).toBe(false);
  });

  it('take a query of more terms than one call holds in parts, with the same answers', () => {
    // 90,000 documents, each with a word of its own: a query of 5,000 of those words touches few
    // enough postings that the scores are cleared per posting, in parts too; a query of common
    // words clears them all at once.
    const words = Array.from({ length: 90_000 }, (_, i) => `q${i.toString(36)}z`);
    const build = () => {
      const index = new Bm25Index();
      for (let d = 0; d < 90_000; d++) index.add(`d${d}`, `${words[d % words.length]} ${d % 3 === 0 ? 'common' : 'plenty'}`);
      index.consolidate();
      return index;
    };
    const withKernels = build();
    useWebAssemblyKernels(false);
    const plain = build();
    useWebAssemblyKernels(true);
    expect(usesKernels(withKernels)).toBe(true);
    const rare = words.slice(0, 5000).join(' ');
    const long = `${words.slice(0, 9000).join(' ')} common ${words.slice(0, 3000).join(' ')}`;
    for (const query of [rare, long, 'common plenty', rare]) {
      for (const k of [1, 10]) expect(withKernels.topMatches(query, k)).toEqual(plain.topMatches(query, k));
      expect(withKernels.scoreAll(query)).toEqual(plain.scoreAll(query));
    }
    // Every document matched, with repeats: the list of matches is full and stays within its room.
    const every = 'common plenty common';
    expect(withKernels.scoreAll(every).documents.length).toBe(90_000);
    expect(withKernels.scoreAll(every)).toEqual(plain.scoreAll(every));
  }, 60_000);

  it('search a file read by readIndexFile where it was read, and a second index from the same bytes in a copy', async () => {
    const { index, queries } = corpus(9, 800);
    const writer = new BinaryFileWriter('TESTBM25', 1);
    index.writeTo(writer);
    const folder = mkdtempSync(join(tmpdir(), 'bm25-kernels-'));
    try {
      const path = join(folder, 'index.bin');
      writeFileSync(path, writer.toBytes());
      const bytes = await readIndexFile(path);
      const first = Bm25Index.readFrom(new BinaryFileReader(bytes, 'TESTBM25', 'test index', 'rebuild it'));
      const second = Bm25Index.readFrom(new BinaryFileReader(bytes, 'TESTBM25', 'test index', 'rebuild it'));
      const postingsOf = (loaded: Bm25Index) => (loaded as unknown as { kernels: { documents: Int32Array } }).kernels.documents;
      // The first keeps its postings in the file's memory; the second has a memory of its own.
      expect(postingsOf(first).buffer).toBe(bytes.buffer);
      expect(postingsOf(second).buffer).not.toBe(bytes.buffer);
      for (const query of queries) {
        const expected = index.topMatches(query, 5);
        expect(first.topMatches(query, 5)).toEqual(expected);
        expect(second.topMatches(query, 5)).toEqual(expected);
        expect(first.scoreAll(query)).toEqual(index.scoreAll(query));
      }
      // Without WebAssembly: a plain read, searched in JavaScript.
      useWebAssemblyKernels(false);
      const plain = Bm25Index.readFrom(new BinaryFileReader(await readIndexFile(path), 'TESTBM25', 'test index', 'rebuild it'));
      expect(usesKernels(plain)).toBe(false);
      expect(plain.topMatches(queries[0]!, 5)).toEqual(index.topMatches(queries[0]!, 5));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('without WebAssembly, the JavaScript path still refuses postings that name a missing document', () => {
    useWebAssemblyKernels(false);
    const { index } = corpus(5, 50);
    const json = index.toJSON();
    expect(() => Bm25Index.fromJSON({ ...json, ids: json.ids.slice(0, 2) })).toThrow(/does not exist/);
    expect(usesKernels(Bm25Index.fromJSON(json))).toBe(false);
    useWebAssemblyKernels(true);
    expect(() => Bm25Index.fromJSON({ ...json, ids: json.ids.slice(0, 2) })).toThrow(/does not exist/);
    expect(usesKernels(Bm25Index.fromJSON(json))).toBe(true);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core';
import { readPredictionFiles, readTestSetFile } from '../src/index.js';

let dir: string;
const file = async (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-eval-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readPredictionFiles', () => {
  it('reads plain lines and JSON Lines (strings, objects, several references)', async () => {
    const predictions = await file('predictions.txt', 'positive\nnegative\r\n');
    const references = await file('references.jsonl', '{"output": "positive"}\n["negative", "bad"]\n');
    expect(await readPredictionFiles(predictions, references)).toEqual({ predictions: ['positive', 'negative'], references: ['positive', ['negative', 'bad']] });
    const objects = await file('objects.data', '{"prediction": "a"}\n{"text": "b"}\n');
    expect((await readPredictionFiles(objects, predictions)).predictions).toEqual(['a', 'b']);
  });

  it('rejects missing, binary, empty, broken and mismatched files with the file and line', async () => {
    const references = await file('refs.jsonl', '"positive"\n"negative"\n"positive"\n');
    const cases: Array<[string, RegExp]> = [
      [join(dir, 'missing.txt'), /predictions file .*missing\.txt: cannot be read: it does not exist/],
      [await file('binary.jsonl', Buffer.from([0x89, 0x50, 0x00, 0x0d])), /binary\.jsonl: it contains NUL bytes/],
      [await file('empty.txt', ''), /empty\.txt: the file is empty/],
      [await file('broken.jsonl', '"positive"\n{"prediction": "neg\n"positive"\n'), /broken\.jsonl line 2: not valid JSON/],
      [await file('number.jsonl', '"positive"\n42\n"positive"\n'), /number\.jsonl line 2: a JSON number/],
      [await file('short.txt', 'positive\nnegative\n'), /2 predictions in .*short\.txt but 3 references in .*refs\.jsonl/],
    ];
    for (const [predictions, message] of cases) {
      const error = await readPredictionFiles(predictions, references).catch((caught: unknown) => caught);
      expect(ValidationError.isInstance(error), String(error)).toBe(true);
      expect((error as ValidationError).message).toMatch(message);
      expect((error as ValidationError).hint).toBeTruthy();
    }
  });
});

describe('readTestSetFile', () => {
  it('reads the first N examples, and names a missing, folder or empty test set', async () => {
    const data = await file('test.jsonl', '{"input": "a", "output": "b"}\n{"input": "c", "output": "d"}\n');
    expect(await readTestSetFile(data, 1)).toEqual([{ input: 'a', output: 'b' }]);
    await expect(readTestSetFile(join(dir, 'nope.jsonl'))).rejects.toThrow(/test set .*nope\.jsonl: it does not exist/);
    await expect(readTestSetFile(dir)).rejects.toThrow(/it is a folder/);
    await expect(readTestSetFile(await file('none.jsonl', '\n'))).rejects.toThrow(/the file has no examples/);
  });
});

import { InvalidArgumentError } from '@prompt2model/core/internal';
import { describe, expect, it } from 'vitest';
import { NearDuplicateIndex, estimateSimilarity, ngramJaccard } from '../src/near-duplicate.js';

describe('NearDuplicateIndex', () => {
  it('finds a near-duplicate and reports its id', () => {
    const index = new NearDuplicateIndex();
    index.add('The quick brown fox jumps over the lazy dog near the river bank.');
    const id = index.add('A completely different sentence about quarterly revenue and taxes.');
    const match = index.findNearDuplicate('A completely different sentence about quarterly revenue and taxes!');
    expect(match?.id).toBe(id);
    expect(match!.similarity).toBeGreaterThan(0.8);
  });

  it('ignores case and spacing, and does not match unrelated texts', () => {
    const index = new NearDuplicateIndex();
    index.add('I loved this movie, the acting was superb.');
    expect(index.findNearDuplicate('i LOVED this movie,   the acting was superb.')?.similarity).toBe(1);
    expect(index.findNearDuplicate('The delivery was late and the box was damaged.')).toBeUndefined();
  });

  it('estimates Jaccard similarity close to the exact value', () => {
    const index = new NearDuplicateIndex({ numHashes: 256, bands: 64 });
    const a = 'the service at this restaurant was friendly and fast, and the food arrived hot';
    const b = 'the service at this restaurant was friendly and slow, and the food arrived cold';
    const exact = ngramJaccard(a, b);
    expect(Math.abs(index.similarity(a, b) - exact)).toBeLessThan(0.12);
    expect(estimateSimilarity(index.signature(a), index.signature(a))).toBe(1);
  });

  it('limits matches with accept', () => {
    const index = new NearDuplicateIndex();
    const first = index.add('Book a table for two at eight tonight please.');
    expect(index.findNearDuplicate('Book a table for two at eight tonight please.', { accept: (id) => id !== first })).toBeUndefined();
  });

  it('handles texts shorter than the n-gram and many entries', () => {
    const index = new NearDuplicateIndex();
    index.add('hi');
    expect(index.findNearDuplicate('Hi')?.similarity).toBe(1);
    for (let i = 0; i < 2000; i++) index.add(`order number ${i * 7919} shipped to warehouse ${i % 13}`);
    expect(index.size).toBe(2001);
    expect(index.findNearDuplicate(`order number ${1234 * 7919} shipped to warehouse ${1234 % 13}`)).toBeDefined();
  });

  it('rejects inconsistent options', () => {
    expect(() => new NearDuplicateIndex({ numHashes: 10, bands: 3 })).toThrow(InvalidArgumentError);
    expect(() => new NearDuplicateIndex({ threshold: 2 })).toThrow(InvalidArgumentError);
  });
});

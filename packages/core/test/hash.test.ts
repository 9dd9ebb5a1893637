import { describe, expect, it } from 'vitest';
import { hashValue } from '../src/internal.js';

describe('hashValue', () => {
  it('ignores key order and undefined fields, and separates values that concatenate alike', () => {
    expect(hashValue({ a: 1, b: 'x' })).toBe(hashValue({ b: 'x', a: 1, c: undefined }));
    expect(hashValue(['ab', 'c'])).not.toBe(hashValue(['a', 'bc']));
    expect(hashValue({ a: '1' })).not.toBe(hashValue({ a: 1 }));
    expect(hashValue([1, [2]])).not.toBe(hashValue([[1], 2]));
    expect(hashValue('日本語')).not.toBe(hashValue('日本'));
  });
});

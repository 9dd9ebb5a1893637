import { describe, expect, it } from 'vitest';
import { ValidationError } from '@prompt2model/core';
import { estimateFineTuneMemory, formatBytes, parseByteSize } from '../src/internal.js';

const GB = 1e9;

describe('parseByteSize / formatBytes', () => {
  it('parses decimal and binary units', () => {
    expect(parseByteSize('3GB')).toBe(3e9);
    expect(parseByteSize('500 MB')).toBe(5e8);
    expect(parseByteSize('24GiB')).toBe(24 * 1024 ** 3);
    expect(parseByteSize('1.5g')).toBe(1.5e9);
    expect(parseByteSize('1234')).toBe(1234);
    expect(parseByteSize(42)).toBe(42);
    expect(() => parseByteSize('three gigs')).toThrow(ValidationError);
    expect(() => parseByteSize('3XB')).toThrow(ValidationError);
  });

  it('formats like the Hub', () => {
    expect(formatBytes(242065649)).toBe('242 MB');
    expect(formatBytes(2.95e9)).toBe('3.0 GB');
    expect(formatBytes(undefined)).toBe('?');
  });
});

describe('estimateFineTuneMemory', () => {
  it('puts well-known models in the right range', () => {
    // t5-small: 60M parameters, 242 MB of fp32 weights.
    const small = estimateFineTuneMemory({ sizeBytes: 242065649 });
    expect(small.parameters).toBeCloseTo(60.5e6, -5);
    expect(small.loraBytes).toBeLessThan(8 * GB);
    expect(small.fullBytes).toBeLessThan(8 * GB);
    // A 7B model: full fine-tuning needs well over 100 GB; LoRA in bf16 over 14 GB of weights alone.
    const seven = estimateFineTuneMemory({ parameters: 7e9 });
    expect(seven.fullBytes).toBeGreaterThan(112 * GB);
    expect(seven.loraBytes).toBeGreaterThan(14 * GB);
    expect(seven.loraBytes).toBeLessThan(seven.fullBytes);
    expect(seven.hiddenSize).toBeGreaterThan(3500);
    expect(seven.hiddenSize).toBeLessThan(5000);
    expect(seven.loraParameters / seven.parameters).toBeLessThan(0.01);
  });

  it('grows with sequence length and batch size, shrinks with checkpointing', () => {
    const base = estimateFineTuneMemory({ parameters: 250e6, sequenceLength: 512, batchSize: 8 });
    const longer = estimateFineTuneMemory({ parameters: 250e6, sequenceLength: 2048, batchSize: 8 });
    const bigger = estimateFineTuneMemory({ parameters: 250e6, sequenceLength: 512, batchSize: 32 });
    const checkpointed = estimateFineTuneMemory({ parameters: 250e6, sequenceLength: 512, batchSize: 8, gradientCheckpointing: true });
    expect(longer.activationBytes).toBeGreaterThan(base.activationBytes * 4);
    expect(bigger.activationBytes).toBeCloseTo(base.activationBytes * 4, -3);
    expect(checkpointed.loraBytes).toBeLessThan(base.loraBytes);
    const fp32 = estimateFineTuneMemory({ parameters: 250e6, precision: 'fp32' });
    expect(fp32.loraBytes).toBeGreaterThan(base.loraBytes);
  });

  it('needs a size', () => {
    expect(() => estimateFineTuneMemory({})).toThrow(ValidationError);
    expect(() => estimateFineTuneMemory({ sizeBytes: 0 })).toThrow(ValidationError);
  });
});

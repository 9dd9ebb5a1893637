import type { Example } from './schemas.js';
import { sha256 } from './util/hash.js';

export interface SplitRatios {
  /** Share of examples for validation, in [0, 1). Default 0.1. */
  validation?: number;
  /** Share of examples for test, in [0, 1). Default 0.1. */
  test?: number;
  /** Changes the assignment while keeping it deterministic. */
  seed?: string | number;
}

export interface ExampleSplits<T extends Example = Example> {
  train: T[];
  validation: T[];
  test: T[];
}

/**
 * Splits examples by a hash of their normalised input, so the split is deterministic and the same
 * input (even repeated) never lands in both train and test.
 */
export function splitExamples<T extends Example>(examples: readonly T[], ratios: SplitRatios = {}): ExampleSplits<T> {
  const validation = ratios.validation ?? 0.1;
  const test = ratios.test ?? 0.1;
  if (validation < 0 || test < 0 || validation + test >= 1) {
    throw new RangeError('Split ratios must be non-negative and leave room for training data (validation + test < 1).');
  }
  const seed = String(ratios.seed ?? 0);
  const out: ExampleSplits<T> = { train: [], validation: [], test: [] };
  for (const example of examples) {
    const bucket = splitBucket(example.input, seed);
    if (bucket < test) out.test.push(example);
    else if (bucket < test + validation) out.validation.push(example);
    else out.train.push(example);
  }
  return out;
}

/** A number in [0, 1) derived from the normalised input and a seed. */
export function splitBucket(input: string, seed: string | number = 0): number {
  const hex = sha256(`${seed}\u0000${input.trim().toLowerCase().replace(/\s+/g, ' ')}`).slice(0, 12);
  return parseInt(hex, 16) / 2 ** 48;
}

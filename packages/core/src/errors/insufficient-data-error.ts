import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.insufficient-data';
const symbol = Symbol.for(marker);

/**
 * Too few examples to train on: generation stopped short of the target (the teacher ran dry, or
 * stopped early). Training is not started; the hint says how to get more or accept these.
 */
export class InsufficientDataError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** Examples there are. */
  readonly count: number;
  /** Examples that were asked for. */
  readonly target: number;

  constructor(options: { count: number; target: number; message: string; hint?: string }) {
    super({ name: 'InsufficientDataError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), exitCategory: 'configuration' });
    this.count = options.count;
    this.target = options.target;
  }

  static override isInstance(error: unknown): error is InsufficientDataError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.no-executor';
const symbol = Symbol.for(marker);

/** A model format that no executor in the format table runs here. */
export class NoExecutorError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(options: { message: string; hint?: string; cause?: unknown }) {
    super({ name: 'NoExecutorError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), cause: options.cause, exitCategory: 'configuration' });
  }

  static override isInstance(error: unknown): error is NoExecutorError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

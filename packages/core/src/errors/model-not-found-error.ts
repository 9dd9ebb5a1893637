import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.model-not-found';
const symbol = Symbol.for(marker);

/** No trained model where one was named: the folder is missing, or holds no model format. */
export class ModelNotFoundError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(options: { message: string; hint?: string; cause?: unknown }) {
    super({ name: 'ModelNotFoundError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), cause: options.cause, exitCategory: 'configuration' });
  }

  static override isInstance(error: unknown): error is ModelNotFoundError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

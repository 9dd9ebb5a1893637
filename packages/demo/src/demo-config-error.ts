import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.demo-config';
const symbol = Symbol.for(marker);

/** The demo server cannot start as configured: a public host without a token, a port in use. */
export class DemoConfigError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(options: { message: string; hint?: string; cause?: unknown }) {
    super({ name: 'DemoConfigError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), cause: options.cause, exitCategory: 'configuration' });
  }

  static override isInstance(error: unknown): error is DemoConfigError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

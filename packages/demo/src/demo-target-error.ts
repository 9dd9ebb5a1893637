import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.demo-target';
const symbol = Symbol.for(marker);

/** What the demo should serve cannot be found: no model, no spec, or an unusable folder. */
export class DemoTargetError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(options: { message: string; hint?: string; cause?: unknown }) {
    super({ name: 'DemoTargetError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), cause: options.cause, exitCategory: 'configuration' });
  }

  static override isInstance(error: unknown): error is DemoTargetError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

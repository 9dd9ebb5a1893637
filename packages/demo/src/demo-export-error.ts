import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.demo-export';
const symbol = Symbol.for(marker);

/**
 * The static demo cannot be built: the model folder lacks the browser's ONNX layout, the browser
 * runtime is missing, or the target folder holds files of the user's.
 */
export class DemoExportError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(options: { message: string; hint?: string; cause?: unknown }) {
    super({ name: 'DemoExportError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), cause: options.cause, exitCategory: 'configuration' });
  }

  static override isInstance(error: unknown): error is DemoExportError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

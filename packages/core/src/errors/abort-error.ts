import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.abort';
const symbol = Symbol.for(marker);

/** Work was cancelled through an AbortSignal (Ctrl-C in the CLI). */
export class AbortError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(message = 'The operation was cancelled.', cause?: unknown) {
    super({ name: 'AbortError', message, cause, hint: 'Rerun the same command with the same `outDir` to resume.' });
  }

  static override isInstance(error: unknown): error is AbortError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

/** Throws an AbortError when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, signal.reason);
}

import { Prompt2ModelError } from '@prompt2model/core/errors';

const marker = 'prompt2model.error.cli-usage';
const symbol = Symbol.for(marker);

/** A command line the CLI cannot act on (a missing file, a bad flag value); exits 2. */
export class CliUsageError extends Prompt2ModelError {
  readonly [symbol] = true;

  constructor(message: string, hint?: string) {
    super({ name: 'CliUsageError', message, ...(hint ? { hint } : {}) });
  }

  static override isInstance(error: unknown): error is CliUsageError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.dataset-skipped';
const symbol = Symbol.for(marker);

/** The user declined the proposed column mapping of a dataset (`confirmMapping` answered null). */
export class DatasetSkippedError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly dataset: string;

  constructor(options: { dataset: string; message?: string; hint?: string }) {
    super({
      name: 'DatasetSkippedError',
      message: options.message ?? `Column mapping for ${options.dataset} was declined.`,
      hint: options.hint ?? 'Pass a `mapping` to map the columns yourself, or `exclude` the dataset.',
    });
    this.dataset = options.dataset;
  }

  static override isInstance(error: unknown): error is DatasetSkippedError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

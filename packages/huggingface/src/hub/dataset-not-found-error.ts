import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.dataset-not-found';
const symbol = Symbol.for(marker);

/**
 * A dataset id the Hub does not know (a misspelling, or a private dataset the token cannot see).
 * The hint names close ids when some are known. Bad input: the CLI exits 2.
 */
export class DatasetNotFoundError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly dataset: string;
  /** Close ids from the dataset index, closest first. */
  readonly suggestions: string[];

  constructor(options: { dataset: string; suggestions?: string[]; hadToken?: boolean; cause?: unknown }) {
    const suggestions = options.suggestions ?? [];
    super({
      name: 'DatasetNotFoundError',
      message: `The dataset ${options.dataset} was not found on the Hub${options.hadToken ? '' : ' (a private dataset needs a token with access: HF_TOKEN or `accessToken`)'}.`,
      hint: suggestions.length > 0 ? `Did you mean ${suggestions.join(', ')}? Check the id with prompt2model datasets search.` : 'Check the id (owner/name) with prompt2model datasets search.',
      exitCategory: 'configuration',
      cause: options.cause,
    });
    this.dataset = options.dataset;
    this.suggestions = suggestions;
  }

  static override isInstance(error: unknown): error is DatasetNotFoundError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

import { Prompt2ModelError } from '@prompt2model/core/internal';

const marker = 'prompt2model.error.gated-dataset';
const symbol = Symbol.for(marker);

/**
 * A Hugging Face dataset that needs accepted terms (gated) or a token with access (private), and
 * the request had neither. The hint names the page where the terms are accepted.
 */
export class GatedDatasetError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly dataset: string;
  /** The dataset's page on the Hub, where its terms are accepted. */
  readonly pageUrl: string;
  /** Whether the request carried a token (then the token's account has not accepted the terms). */
  readonly hadToken: boolean;

  constructor(options: { dataset: string; pageUrl: string; hadToken: boolean; cause?: unknown }) {
    super({
      name: 'GatedDatasetError',
      message: `The dataset ${options.dataset} is gated or private, and ${options.hadToken ? 'the token given has no access to it' : 'no Hugging Face token was given'}.`,
      hint: options.hadToken
        ? `Accept its terms at ${options.pageUrl} with the account the token belongs to, or leave it out (\`exclude\` ${options.dataset}).`
        : `Accept its terms at ${options.pageUrl}, then set HF_TOKEN (or \`accessToken\`) to a token of that account; or leave it out (\`exclude\` ${options.dataset}).`,
      cause: options.cause,
    });
    this.dataset = options.dataset;
    this.pageUrl = options.pageUrl;
    this.hadToken = options.hadToken;
  }

  static override isInstance(error: unknown): error is GatedDatasetError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.missing-package';
const symbol = Symbol.for(marker);

/**
 * An optional package (a peer dependency such as @huggingface/transformers) that a feature needs is
 * not installed. The hint is the command that adds it.
 */
export class MissingPackageError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** The npm package to install. */
  readonly packageName: string;

  constructor(options: { packageName: string; neededFor: string; cause?: unknown }) {
    super({
      name: 'MissingPackageError',
      message: `${options.packageName} is not installed; it is needed to ${options.neededFor}.`,
      hint: `Install it beside prompt2model: npm install ${options.packageName}`,
      exitCategory: 'configuration',
      cause: options.cause,
    });
    this.packageName = options.packageName;
  }

  static override isInstance(error: unknown): error is MissingPackageError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

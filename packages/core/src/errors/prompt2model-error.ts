const marker = 'prompt2model.error';
const symbol = Symbol.for(marker);

/**
 * Base class of every error this project throws. `isInstance` works across duplicate copies of
 * the package (two versions in one node_modules), where `instanceof` would not.
 */
export class Prompt2ModelError extends Error {
  readonly [symbol] = true;
  /** What the user can do about it, shown by the CLI under the message. */
  readonly hint: string | undefined;
  /**
   * `configuration`: the user's setup is the cause (a missing key, an unusable training backend, an
   * unwritable folder), fixed by changing it; the CLI exits 2 for these, as for bad input.
   */
  readonly exitCategory: 'configuration' | undefined;

  constructor(options: { name?: string; message: string; cause?: unknown; hint?: string; exitCategory?: 'configuration' }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name ?? 'Prompt2ModelError';
    this.hint = options.hint;
    this.exitCategory = options.exitCategory;
  }

  static isInstance(error: unknown): error is Prompt2ModelError {
    return Prompt2ModelError.hasMarker(error, marker);
  }

  protected static hasMarker(error: unknown, markerName: string): boolean {
    return (
      error != null &&
      typeof error === 'object' &&
      (error as Record<symbol, unknown>)[Symbol.for(markerName)] === true
    );
  }
}

import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.no-such-entry';
const symbol = Symbol.for(marker);

/** A name (a provider, a training backend, a stage implementation) that no registry entry has. */
export class NoSuchEntryError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** What was looked up, e.g. `training backend` or `model provider`. */
  readonly kind: string;
  readonly entryName: string;
  /** The names the registry knows. */
  readonly available: string[];

  constructor(options: { kind: string; entryName: string; available: string[]; hint?: string; message?: string }) {
    super({
      name: 'NoSuchEntryError',
      message: options.message ?? `Unknown ${options.kind} "${options.entryName}" (known: ${options.available.join(', ') || 'none'}).`,
      hint: options.hint ?? `Use one of: ${options.available.join(', ')}; or register your own.`,
    });
    this.kind = options.kind;
    this.entryName = options.entryName;
    this.available = options.available;
  }

  static override isInstance(error: unknown): error is NoSuchEntryError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

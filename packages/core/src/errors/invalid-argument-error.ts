import { redactSecrets } from '../util/redact.js';
import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.invalid-argument';
const symbol = Symbol.for(marker);

/**
 * An option or argument outside what a function accepts (a ratio above 1, a negative amount, a
 * zero concurrency). The caller's input is the cause, so the CLI exits 2, as for any bad input.
 * `argument` is the option's name as the library spells it (`samplesPerInput`); the CLI shows its flag.
 */
export class InvalidArgumentError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** The option or argument, e.g. `maxConcurrency`. */
  readonly argument: string;
  /** The value given (secret-looking strings redacted). */
  readonly value: unknown;

  /** `expected` builds the usual message: "`argument` must be <expected>, got <value>." */
  constructor(options: { argument: string; value?: unknown; hint?: string; cause?: unknown } & ({ message: string } | { expected: string })) {
    const message = 'message' in options ? options.message : `\`${options.argument}\` must be ${options.expected}, got ${describeValue(options.value)}.`;
    super({
      name: 'InvalidArgumentError',
      message: redactSecrets(message),
      ...(options.hint ? { hint: options.hint } : {}),
      cause: options.cause,
      exitCategory: 'configuration',
    });
    this.argument = options.argument;
    this.value = typeof options.value === 'string' ? redactSecrets(options.value) : options.value;
  }

  static override isInstance(error: unknown): error is InvalidArgumentError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

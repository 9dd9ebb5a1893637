import { Prompt2ModelError } from '@prompt2model/core/errors';

const marker = 'prompt2model.error.preflight';
const symbol = Symbol.for(marker);

export interface PreflightFailure {
  check: string;
  message: string;
  hint?: string;
}

/** Preflight found problems: one line each, with its fix. The CLI exits 2. */
export class PreflightError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly failures: PreflightFailure[];

  constructor(failures: PreflightFailure[]) {
    super({
      name: 'PreflightError',
      message:
        failures.length === 1
          ? `Preflight: ${failures[0]!.check}: ${failures[0]!.message}`
          : `Preflight found ${failures.length} problems before spending anything:\n${failures.map((failure) => `  - ${failure.check}: ${failure.message}${failure.hint ? ` Fix: ${failure.hint}` : ''}`).join('\n')}`,
      ...(failures.length === 1 && failures[0]!.hint ? { hint: failures[0]!.hint } : {}),
      exitCategory: 'configuration',
    });
    this.failures = failures;
  }

  static override isInstance(error: unknown): error is PreflightError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.budget-exceeded';
const symbol = Symbol.for(marker);

/** A new paid call would take spending past the configured cap (`maxCostUsd`). */
export class BudgetExceededError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly spentUsd: number;
  readonly maxCostUsd: number;

  constructor(options: { spentUsd: number; maxCostUsd: number; message?: string; hint?: string }) {
    super({
      name: 'BudgetExceededError',
      message:
        options.message ??
        `Budget cap reached: spent $${options.spentUsd.toFixed(4)} of the $${options.maxCostUsd.toFixed(4)} allowed; no new paid calls are made.`,
      hint: options.hint ?? 'Raise `maxCostUsd` and rerun the same command with the same `outDir`: finished work is kept and not paid for again.',
    });
    this.spentUsd = options.spentUsd;
    this.maxCostUsd = options.maxCostUsd;
  }

  static override isInstance(error: unknown): error is BudgetExceededError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

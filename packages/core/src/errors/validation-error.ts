import type { z } from 'zod';
import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.validation';
const symbol = Symbol.for(marker);

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `examples.2.output`; empty for the whole value. */
  path: string;
  message: string;
}

/** Input (a file, a config, an LLM's JSON) did not have the expected shape. */
export class ValidationError extends Prompt2ModelError {
  readonly [symbol] = true;
  readonly issues: ValidationIssue[];
  /** What was being validated, e.g. `train.jsonl line 12` or `training job spec`. */
  readonly subject: string;

  constructor(options: { subject: string; issues: ValidationIssue[]; hint?: string; cause?: unknown }) {
    const detail = options.issues
      .slice(0, 5)
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
      .join('; ');
    const more = options.issues.length > 5 ? ` (and ${options.issues.length - 5} more)` : '';
    super({
      name: 'ValidationError',
      message: `Invalid ${options.subject}: ${detail}${more}`,
      hint: options.hint,
      cause: options.cause,
    });
    this.subject = options.subject;
    this.issues = options.issues;
  }

  static fromZod(subject: string, error: z.ZodError, hint?: string): ValidationError {
    return new ValidationError({
      subject,
      hint,
      cause: error,
      issues: error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    });
  }

  static override isInstance(error: unknown): error is ValidationError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

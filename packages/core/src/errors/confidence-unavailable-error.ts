import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.confidence-unavailable';
const symbol = Symbol.for(marker);

/**
 * The student's executor reports no confidence for its answers (a PyTorch folder run by the
 * Python worker, an API model), so a cascade cannot tell when to ask the teacher. Raised before any
 * teacher call is paid for; a pipeline run skips its calibration with a warning instead of failing.
 */
export class ConfidenceUnavailableError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** The student's model id. */
  readonly model: string;

  constructor(options: { model: string; message: string; hint?: string }) {
    super({ name: 'ConfidenceUnavailableError', message: options.message, ...(options.hint ? { hint: options.hint } : {}), exitCategory: 'configuration' });
    this.model = options.model;
  }

  static override isInstance(error: unknown): error is ConfidenceUnavailableError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

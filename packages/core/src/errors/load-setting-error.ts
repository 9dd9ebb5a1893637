import { Prompt2ModelError } from './prompt2model-error.js';

const marker = 'prompt2model.error.load-setting';
const symbol = Symbol.for(marker);

/** A required setting (an API key, a URL) was given neither as an option nor in the environment. */
export class LoadSettingError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** The environment variable that would have supplied it, e.g. `OPENAI_API_KEY`. */
  readonly environmentVariableName: string;

  constructor(options: { message: string; environmentVariableName: string; hint?: string }) {
    super({ name: 'LoadSettingError', message: options.message, ...(options.hint ? { hint: options.hint } : {}) });
    this.environmentVariableName = options.environmentVariableName;
  }

  static override isInstance(error: unknown): error is LoadSettingError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

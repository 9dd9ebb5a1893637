/**
 * What a training backend declares besides the job life cycle (see `TrainerBackend` in stages.ts):
 * the data it accepts, checked before any upload or launch, and how it charges, used for the
 * estimate and the `--max-cost` check. Kept in core so a provider package (e.g.
 * @prompt2model/openai) implements a backend without depending on the trainer.
 */

/** What a backend accepts: checked before any upload or launch. */
export interface DataFormatRules {
  /** Shown in messages, e.g. "OpenAI fine-tuning". */
  name: string;
  /** `text`: the worker textualises rows itself; `chat`: rows are uploaded as chat messages. */
  format: 'text' | 'chat';
  minTrainExamples: number;
  /** Fewest rows a validation file may have when one is sent (OpenAI rejects a file under 10). */
  minValidationExamples?: number;
  /** Largest allowed example, in (estimated) tokens; longer rows are an error, not truncated. */
  maxExampleTokens?: number;
  /** The limit for one base model, when it differs by model (wins over `maxExampleTokens`). */
  maxExampleTokensFor?: (baseModel: string) => number | undefined;
  /**
   * The backend's own count of a chat example's tokens for a base model (its real tokenizer),
   * used for the limit and the cost estimate instead of the 4-characters-a-token estimate.
   */
  chatTokenCounter?: (baseModel: string) => Promise<(messages: ReadonlyArray<{ role: string; content: string }>) => number>;
  /** Chat backends that flag an empty user message (OpenAI's `missing_content`): rows with an empty input are refused, with their count. */
  refuseEmptyInput?: boolean;
  /** Largest allowed upload, in bytes (after conversion to the backend's format). */
  maxFileBytes?: number;
}

/** How a backend charges for training. */
export type TrainingPricing =
  | {
      kind: 'gpu-time';
      /** USD per GPU-hour; 0 for your own hardware. */
      gpuHourlyUsd: number;
      /** Training throughput of one GPU, in tokens a second (forward + backward). */
      tokensPerSecondPerGpu: number;
      gpus: number;
      /** Fixed start-up time (model download, loading, saving), in hours. */
      overheadHours?: number;
      /** The device that will train, when known: a GPU's name, or `cpu with N threads ...` (then `gpus` is 1). */
      device?: string;
      /** Whether `tokensPerSecondPerGpu` was measured on that device (a short probe) rather than assumed. */
      measured?: boolean;
      /** Why the device or the throughput could not be measured. */
      note?: string;
    }
  | {
      kind: 'per-token';
      /** USD per one million trained tokens (tokens in the file × epochs). */
      usdPer1MTokens: number;
      /** Billed epochs must be whole numbers. */
      wholeEpochs?: boolean;
    };

import type { Example, ModelArchitecture } from '@prompt2model/core/internal';
import { formatTrainingPrompt, Prompt2ModelError } from '@prompt2model/core/internal';

export interface TextualizeOptions {
  instruction: string;
  architecture: ModelArchitecture;
  /**
   * Decoder-only training rows end with the tokenizer's EOS token so the model learns to stop;
   * evaluation prompts do not (generation stops there anyway). Encoder-decoder tokenizers add EOS
   * themselves.
   */
  split?: 'train' | 'validation' | 'test';
  eosToken?: string;
  /** Dataset index, for multi-task training (`<task N>` prefix). Default 0. */
  taskId?: number;
}

/** One textualised row. For decoder-only models the loss is computed on `target` only. */
export interface TextualizedExample {
  /** Encoder input (encoder-decoder) or prompt (decoder-only). */
  source: string;
  /** Decoder target (encoder-decoder) or the completion after the prompt (decoder-only). */
  target: string;
}

/**
 * The prompt the reference Prompt2Model trains and evaluates with: core's `formatTrainingPrompt`
 * (kept under this name for existing callers).
 */
export const formatPrompt: (instruction: string, input: string, taskId?: number) => string = formatTrainingPrompt;

/**
 * Turns an `{input, output}` row into model text the way the reference did: instruction + example
 * input as the encoder input for encoder-decoder models; prompt + output + EOS for decoder-only ones.
 * The Python worker implements the same function (p2m_worker/textualize.py); a test keeps them equal.
 */
export function textualize(example: Pick<Example, 'input' | 'output'>, options: TextualizeOptions): TextualizedExample {
  const source = formatTrainingPrompt(options.instruction, example.input, options.taskId ?? 0);
  switch (options.architecture) {
    case 'encoder-decoder':
      return { source, target: example.output };
    case 'decoder-only': {
      const split = options.split ?? 'train';
      if (split === 'train' && options.eosToken === undefined) {
        throw new Prompt2ModelError({
          message: 'Textualising decoder-only training rows needs the tokenizer EOS token.',
          hint: 'Pass eosToken (e.g. "</s>" or "<|endoftext|>").',
        });
      }
      return { source, target: split === 'train' ? `${example.output}${options.eosToken}` : example.output };
    }
    default:
      throw new Prompt2ModelError({
        message: `Cannot textualise for a model of ${options.architecture} architecture.`,
        hint: 'Set the architecture (encoder-decoder or decoder-only) in the job spec.',
      });
  }
}

export { toChatRow, type ChatTrainingRow } from '@prompt2model/core/internal';

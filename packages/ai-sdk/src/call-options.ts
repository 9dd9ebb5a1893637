import { InvalidPromptError, UnsupportedFunctionalityError, type LanguageModelV4CallOptions, type LanguageModelV4Prompt, type SharedV4Warning } from '@ai-sdk/provider';
import type { GenerationOptions } from '@prompt2model/core/internal';

/** One AI SDK call as the student's executor takes it. */
export interface StudentCall {
  /** The task input (the last user message's text); the executor wraps it in the training prompt. */
  input: string;
  generation: GenerationOptions;
  warnings: SharedV4Warning[];
}

/**
 * Maps an AI SDK call onto the student: a text model trained on one input → one answer, with the
 * instruction of its training. The last user message is the input; what the student cannot honour
 * (system messages, earlier turns, tools, JSON output, top-k, penalties, reasoning) is a warning,
 * as the specification asks; what it cannot read at all (files, a prompt without a user message
 * last) is an error.
 */
export function studentCall(options: LanguageModelV4CallOptions): StudentCall {
  const warnings: SharedV4Warning[] = [];
  const input = studentInput(options.prompt, warnings);
  if (options.tools?.length) warnings.push({ type: 'unsupported', feature: 'tools', details: 'The student answers in text; it never calls a tool.' });
  else if (options.toolChoice && options.toolChoice.type !== 'auto' && options.toolChoice.type !== 'none') {
    warnings.push({ type: 'unsupported', feature: 'toolChoice', details: 'The student answers in text; it never calls a tool.' });
  }
  if (options.responseFormat?.type === 'json') {
    warnings.push({ type: 'unsupported', feature: 'responseFormat', details: 'JSON output is not enforced: the student answers in the format it was trained on.' });
  }
  if (options.topK !== undefined) warnings.push({ type: 'unsupported', feature: 'topK' });
  if (options.presencePenalty !== undefined) warnings.push({ type: 'unsupported', feature: 'presencePenalty' });
  if (options.frequencyPenalty !== undefined) warnings.push({ type: 'unsupported', feature: 'frequencyPenalty' });
  if (options.reasoning !== undefined && options.reasoning !== 'provider-default' && options.reasoning !== 'none') {
    warnings.push({ type: 'unsupported', feature: 'reasoning', details: 'The student does not reason before answering.' });
  }
  const generation: GenerationOptions = {
    ...(options.maxOutputTokens !== undefined ? { maxNewTokens: options.maxOutputTokens } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.stopSequences?.length ? { stop: options.stopSequences } : {}),
  };
  return { input, generation, warnings };
}

function studentInput(prompt: LanguageModelV4Prompt, warnings: SharedV4Warning[]): string {
  const last = prompt[prompt.length - 1];
  if (!last || last.role !== 'user') {
    throw new InvalidPromptError({
      prompt,
      message: `The student answers a user message, and this prompt ends with ${last ? `a${last.role === 'assistant' ? 'n' : ''} ${last.role} message` : 'no message'}: end it with the input to answer.`,
    });
  }
  const texts: string[] = [];
  for (const part of last.content) {
    if (part.type === 'text') texts.push(part.text);
    else {
      throw new UnsupportedFunctionalityError({
        functionality: 'file parts',
        message: `The student reads text only; the user message has a file part (${part.mediaType}). Send the input as text.`,
      });
    }
  }
  if (prompt.some((message) => message.role === 'system')) {
    warnings.push({ type: 'unsupported', feature: 'system messages', details: 'The student answers with the instruction it was trained with; system messages are ignored.' });
  }
  if (prompt.some((message, index) => message.role !== 'system' && index < prompt.length - 1)) {
    warnings.push({ type: 'unsupported', feature: 'conversation history', details: 'The student answers one input: only the last user message is read.' });
  }
  return texts.join('\n');
}

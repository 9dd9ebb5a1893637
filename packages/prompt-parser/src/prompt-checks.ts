import { contextWindowOf, estimateTokens, ValidationError, type Demonstration, type LanguageModelClient } from '@prompt2model/core/internal';

/**
 * Largest prompt read at all, in characters (about 25,000 tokens): an instruction and a few examples
 * fit many times over, while a pasted dataset (megabytes, thousands of demonstrations) would make
 * every teacher request huge. Larger example sets belong in a dataset file.
 */
export const MAX_PROMPT_CHARS = 100_000;

const PROMPT_HINT =
  'Write the task instruction, then a few examples, e.g.\n  Translate English to French.\n  Input: cat\n  Output: chat';

/**
 * Rejects prompts no parser should try: empty text, binary data, text decoded with the wrong
 * encoding. Returns the prompt with a byte-order mark and Windows line endings removed.
 */
export function checkPromptText(prompt: string, maxChars: number = MAX_PROMPT_CHARS): string {
  if (typeof prompt !== 'string') {
    throw new ValidationError({ subject: 'prompt', issues: [{ path: '', message: `expected text, got ${typeof prompt}` }], hint: PROMPT_HINT });
  }
  if (prompt.length > maxChars) {
    throw new ValidationError({
      subject: 'prompt',
      issues: [{ path: '', message: `${prompt.length.toLocaleString('en-US')} characters, over the limit of ${maxChars.toLocaleString('en-US')}` }],
      hint: 'A prompt is an instruction and 3 to 10 representative examples. Shorten it, and pass a large example set as data instead (it is not a prompt).',
    });
  }
  const text = prompt.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (text.trim() === '') {
    throw new ValidationError({ subject: 'prompt', issues: [{ path: '', message: 'the prompt is empty' }], hint: PROMPT_HINT });
  }
  const problem = garbledReason(text);
  if (problem) throw new ValidationError({ subject: 'prompt', issues: [{ path: '', message: problem.message }], hint: problem.hint });
  return text;
}

/** Why a text looks like binary data or mis-decoded bytes, or undefined when it reads as text. */
export function garbledReason(text: string): { message: string; hint: string } | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    return {
      message: `it contains NUL bytes (first at character ${nul}), so it is binary data rather than text`,
      hint: 'Pass a plain-text prompt file (UTF-8), not a binary file such as a PDF, image or archive.',
    };
  }
  // Control characters other than tab, newline, form feed do not occur in prompts people write.
  const controls = text.match(/[\u0001-\u0008\u000b\u000e-\u001f\u007f]/g)?.length ?? 0;
  if (controls > 0 && controls / text.length > 0.01) {
    return {
      message: `${controls} control characters in ${text.length} characters: this looks like binary data`,
      hint: 'Pass a plain-text prompt file (UTF-8), not a binary file.',
    };
  }
  const replacement = text.match(/\uFFFD/g)?.length ?? 0;
  if (replacement >= 3 || (replacement > 0 && replacement / text.length > 0.01)) {
    return {
      message: `${replacement} undecodable characters (U+FFFD): the file was not read as UTF-8`,
      hint: 'Save the prompt file as UTF-8 and try again.',
    };
  }
  // UTF-8 read as Latin-1 / Windows-1252: "Ã©" for "é", "â€™" for "’", "ã\u0081" for Japanese kana.
  const mojibake = text.match(/Ã[\u0080-\u00bf]|â€[\u0080-\u00bf™œ¦”“˜]|[ãäåæçè][\u0080-\u00bf]/g)?.length ?? 0;
  if (mojibake >= 3 && mojibake / Math.max(1, text.replace(/\s/g, '').length) > 0.02) {
    return {
      message: `${mojibake} sequences such as "Ã©" or "â€™": UTF-8 text that was decoded with the wrong encoding`,
      hint: 'Re-save the prompt as UTF-8 (or read it with the right encoding) and try again.',
    };
  }
  // A long run without spaces that makes up most of the prompt: base64, minified data, a hash dump.
  const longestRun = Math.max(0, ...(text.match(/\S{400,}/g) ?? []).map((run) => run.length));
  if (longestRun >= 1000 && longestRun / text.length > 0.5 && !/[\u3000-\u9fff\uac00-\ud7af]/.test(text)) {
    return {
      message: `${longestRun} characters without a space make up most of the prompt: it looks like encoded data, not an instruction`,
      hint: 'Write the task as prose with a few examples; put large data in a dataset file instead of the prompt.',
    };
  }
  return undefined;
}

/**
 * Token budget for a prompt: the explicit `maxPromptTokens`, else half of the teacher's context
 * window (its own, or the known one for its model id; the other half is for what the teacher
 * writes back), else only the character limit.
 */
export function promptTokenBudget(teacher: Pick<LanguageModelClient, 'model'> | undefined, maxPromptTokens?: number): number | undefined {
  if (maxPromptTokens !== undefined) return maxPromptTokens;
  const window = teacher ? contextWindowOf(teacher.model) : undefined;
  return window === undefined ? undefined : Math.floor(window / 2);
}

/** Throws when the prompt would not leave the teacher room to answer. */
export function checkPromptBudget(prompt: string, budget: number | undefined, modelId?: string): void {
  if (budget === undefined) return;
  const tokens = estimateTokens(prompt);
  if (tokens <= budget) return;
  throw new ValidationError({
    subject: 'prompt',
    issues: [
      {
        path: '',
        message: `about ${tokens} tokens, over the budget of ${budget} tokens${modelId ? ` for teacher ${modelId}` : ''}`,
      },
    ],
    hint: 'Shorten the prompt: keep the instruction and 3 to 10 representative examples, and pass larger example sets as a dataset instead. Or use a teacher with a larger context window (or raise maxPromptTokens).',
  });
}

/** Examples must have an output: an empty one teaches the student to answer nothing. */
export function checkExamples(examples: readonly Demonstration[]): void {
  const issues = examples.flatMap((example, index) => {
    const problems: Array<{ path: string; message: string }> = [];
    if (example.output.trim() === '') {
      problems.push({ path: `examples.${index}.output`, message: `example ${index + 1} (input "${preview(example.input)}") has an empty output` });
    }
    if (example.input.trim() === '') {
      problems.push({ path: `examples.${index}.input`, message: `example ${index + 1} has an empty input` });
    }
    return problems;
  });
  if (issues.length === 0) return;
  throw new ValidationError({
    subject: 'prompt examples',
    issues,
    hint: 'Give every example both an input and its expected output, or remove the unfinished example (a trailing "Input:" without an answer is not an example).',
  });
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}

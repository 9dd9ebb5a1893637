import { AbortError, PromptSpecSchema, throwIfAborted, ValidationError, type PromptSpec, type StageContext } from '@prompt2model/core/internal';
import { detectLanguage, languageName, type DetectLanguageOptions, type LanguageDetection } from './language.js';
import type { PromptLayout, SplitPrompt } from './layouts.js';
import { checkExamples } from './prompt-checks.js';
import { inferTaskType } from './task-type.js';
import type { InstructionTranslator } from './translation.js';

export const STAGE = 'parse';

/** Options every parser shares: what happens after the prompt is split. */
export interface SpecOptions {
  /**
   * Translator for non-English instructions. Undefined: none configured (a warning says how to get
   * one); `false`: translation turned off on purpose. Either way the instruction stays as written.
   */
  translator?: InstructionTranslator | false;
  /** When translation fails (quota, bad key): throw (default) or keep the original instruction with a warning. */
  onTranslationError?: 'fail' | 'keep-original';
  /** Language detection settings. */
  languageDetection?: DetectLanguageOptions;
}

export type TranslationOutcome =
  | { status: 'not-needed' }
  | { status: 'translated'; translator: string; billedCharacters?: number }
  /** The translation service found the instruction to be English after all. */
  | { status: 'already-english'; translator: string }
  | { status: 'no-translator' }
  /** Translation was turned off (`translate: false`, `--no-translate`). */
  | { status: 'disabled' }
  | { status: 'failed'; error: string };

/** A parse with the details behind it; `spec` is what the pipeline stores. */
export interface PromptParseResult {
  spec: PromptSpec;
  /** How the prompt was split: a deterministic layout, `plain` (no examples found), or `llm`. */
  layout: PromptLayout | 'llm';
  detection: LanguageDetection;
  translation: TranslationOutcome;
  /** Why the task type was chosen. */
  taskTypeReason: string;
  /** Teacher calls the LLM parser needed (counting retries), when it ran. */
  llmAttempts?: number;
  /** What the user should know (untranslated instruction, no examples found, ...). */
  notes: string[];
}

export function emitProgress(context: StageContext, done: number, total = 4): void {
  throwIfAborted(context.signal);
  context.events.emit({ type: 'progress', stage: STAGE, done, total });
}

/**
 * From a split prompt to a validated PromptSpec: checks the examples, detects the instruction's
 * language, translates it to English when a translator is configured (keeping the original and the
 * examples as written: the task may be to produce Japanese), and infers the task type.
 */
export async function buildSpec(split: SplitPrompt, context: StageContext, options: SpecOptions, notes: string[] = []): Promise<PromptParseResult> {
  const instruction = split.instruction.trim();
  if (instruction === '') {
    throw new ValidationError({
      subject: 'prompt',
      issues: [{ path: 'instruction', message: 'the prompt has examples but no instruction' }],
      hint: 'Start the prompt with a sentence saying what the task is, e.g. "Translate English to French.", then the examples.',
    });
  }
  checkExamples(split.examples);
  emitProgress(context, 1);

  const detection = detectLanguage(instruction, options.languageDetection);
  emitProgress(context, 2);

  let translation: TranslationOutcome = { status: 'not-needed' };
  let language = detection.language;
  let englishInstruction = instruction;
  let originalInstruction: string | undefined;
  if (detection.language !== 'en' && detection.language !== 'und') {
    const name = languageName(detection.language);
    if (options.translator === false) {
      translation = { status: 'disabled' };
      note(context, notes, `The instruction is in ${name}; translation is turned off, so it is used as written.`, 'info');
    } else if (!options.translator) {
      translation = { status: 'no-translator' };
      note(context, notes, `The instruction is in ${name} and no translator is configured (set DEEPL_AUTH_KEY to translate it with DeepL); it is used in ${name} as written.`);
    } else {
      throwIfAborted(context.signal);
      const translator = options.translator;
      try {
        // A writing system that settles the language names the source; a trigram guess on a short
        // instruction is shaky, so the service detects it (and may find it is English after all).
        const sourceLanguage = detection.method === 'script' && detection.confidence >= 0.9 ? detection.language : undefined;
        const result = await translator.translate(instruction, { targetLanguage: 'en', ...(sourceLanguage ? { sourceLanguage } : {}), signal: context.signal });
        if (result.detectedSourceLanguage === 'en') {
          translation = { status: 'already-english', translator: translator.name };
          language = 'en';
          note(context, notes, `${translator.name} found the instruction to be English already (the local guess was ${name}); kept as written.`, 'info');
        } else if (result.text.trim() === '') {
          throw new Error(`${translator.name} returned an empty translation`);
        } else {
          translation = { status: 'translated', translator: translator.name, ...(result.billedCharacters !== undefined ? { billedCharacters: result.billedCharacters } : {}) };
          language = result.detectedSourceLanguage ?? detection.language;
          englishInstruction = result.text.trim();
          originalInstruction = instruction;
          note(context, notes, `Translated the ${languageName(language)} instruction to English with ${translator.name}; the original is kept in originalInstruction and the examples are unchanged.`, 'info');
        }
      } catch (error) {
        if (options.onTranslationError !== 'keep-original' || AbortError.isInstance(error) || context.signal.aborted) throw error;
        translation = { status: 'failed', error: (error as Error).message };
        note(context, notes, `Translation failed (${(error as Error).message}); the instruction is used in ${name} as written.`);
      }
    }
  }
  emitProgress(context, 3);

  const inference = inferTaskType(split.examples, englishInstruction);
  const candidate: PromptSpec = {
    instruction: englishInstruction,
    examples: split.examples.map(({ input, output }) => ({ input, output })),
    language,
    ...(originalInstruction !== undefined ? { originalInstruction } : {}),
    taskType: inference.taskType,
    ...(inference.labels ? { labels: inference.labels } : {}),
  };
  const parsed = PromptSpecSchema.safeParse(candidate);
  if (!parsed.success) throw ValidationError.fromZod('prompt spec', parsed.error);
  emitProgress(context, 4);
  return { spec: parsed.data, layout: split.layout, detection, translation, taskTypeReason: inference.reason, notes };
}

export function note(context: StageContext, notes: string[], message: string, level: 'info' | 'warn' = 'warn'): void {
  notes.push(message);
  context.events.log(level, message, STAGE);
}

import { ValidationError, type PromptParser, type PromptSpec, type StageContext } from '@prompt2model/core/internal';
import { DeterministicPromptParser } from './deterministic-parser.js';
import type { PromptLayout } from './layouts.js';
import { LLMPromptParser } from './llm-parser.js';
import { checkPromptBudget, checkPromptText, promptTokenBudget } from './prompt-checks.js';
import { buildSpec, emitProgress, note, type PromptParseResult, type SpecOptions } from './spec-builder.js';
import { createDeepLTranslator } from './deepl-provider.js';
import type { DeepLTranslatorOptions, InstructionTranslator } from './translation.js';
import type { DetectLanguageOptions } from './language.js';

export interface PromptParserOptions {
  /**
   * `auto` (default): the deterministic parser when the prompt marks its examples, else the teacher
   * LLM when there is one, else the whole prompt as the instruction. `deterministic`: never call the
   * teacher. `llm`: always ask the teacher.
   */
  mode?: 'auto' | 'deterministic' | 'llm';
  /** Translate non-English instructions to English. Default true (needs a DeepL key or a `translator`). */
  translate?: boolean;
  /** Your own translator; default `createDeepLTranslator({ ...deepl, env })`: DeepL when a key is configured. */
  translator?: InstructionTranslator;
  /** DeepL settings; `authKey` and `serverUrl` default to DEEPL_AUTH_KEY and DEEPL_SERVER_URL. */
  deepl?: Partial<DeepLTranslatorOptions>;
  /** When translation fails: throw (default) or keep the original instruction with a warning. */
  onTranslationError?: 'fail' | 'keep-original';
  /** Teacher answers the LLM parser tries before giving up. Default 3. */
  maxAttempts?: number;
  /** Largest prompt, in estimated tokens; default half the teacher's context window when known. */
  maxPromptTokens?: number;
  /** Layouts the deterministic parser recognises. */
  layouts?: readonly Exclude<PromptLayout, 'plain'>[];
  languageDetection?: DetectLanguageOptions;
  /** Where DEEPL_* variables are read; default the process environment. */
  env?: Record<string, string | undefined>;
}

/**
 * The default PromptParser: deterministic first, the teacher LLM when the prompt does not mark its
 * examples, DeepL translation of a non-English instruction when a key is configured.
 */
export class DefaultPromptParser implements PromptParser {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'default';
  readonly deterministic: DeterministicPromptParser;
  readonly llm: LLMPromptParser;
  private readonly specOptions: SpecOptions;

  constructor(private readonly options: PromptParserOptions = {}) {
    const translator =
      options.translate === false ? false : (options.translator ?? createDeepLTranslator({ ...options.deepl, ...(options.env ? { env: options.env } : {}) }));
    this.specOptions = {
      ...(translator !== undefined ? { translator } : {}),
      ...(options.onTranslationError ? { onTranslationError: options.onTranslationError } : {}),
      ...(options.languageDetection ? { languageDetection: options.languageDetection } : {}),
    };
    this.deterministic = new DeterministicPromptParser({
      ...this.specOptions,
      ...(options.layouts ? { layouts: options.layouts } : {}),
      ...(options.maxPromptTokens !== undefined ? { maxPromptTokens: options.maxPromptTokens } : {}),
    });
    this.llm = new LLMPromptParser({
      ...this.specOptions,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.maxPromptTokens !== undefined ? { maxPromptTokens: options.maxPromptTokens } : {}),
    });
  }

  /** The translator in use, if any (for messages such as "translating with deepl"). */
  get translator(): InstructionTranslator | undefined {
    return this.specOptions.translator || undefined;
  }

  async parseDetailed(prompt: string, context: StageContext): Promise<PromptParseResult> {
    const mode = this.options.mode ?? 'auto';
    if (mode === 'llm') return this.llm.parseDetailed(prompt, context);
    emitProgress(context, 0);
    const text = checkPromptText(prompt);
    checkPromptBudget(text, promptTokenBudget(context.teacher, this.options.maxPromptTokens), context.teacher?.modelId);
    const split = this.deterministic.split(text);
    if (split) return buildSpec(split, context, this.specOptions);
    if (mode === 'auto' && context.teacher) {
      context.events.log('info', 'The prompt does not mark its examples; asking the teacher to split it.', 'parse');
      try {
        return await this.llm.parseDetailed(text, context);
      } catch (error) {
        // An instruction without examples is a valid task (generation works from the instruction
        // alone), so a teacher that cannot split it does not end the run: one line, and on.
        if (!ValidationError.isInstance(error) || !error.message.includes('JSON answer')) throw error;
        const notes: string[] = [];
        note(context, notes, `The teacher (${context.teacher.modelId}) could not split the prompt, so the whole prompt is the instruction and the spec has no examples. Mark examples with "Input:" / "Output:" lines to give some.`);
        return buildSpec({ instruction: text.trim(), examples: [], layout: 'plain' }, context, this.specOptions, notes);
      }
    }
    const notes: string[] = [];
    note(
      context,
      notes,
      mode === 'deterministic'
        ? 'No marked examples found (Input:/Output:, Q:/A:, ### sections, a JSON list or `input -> output` lines): the whole prompt is the instruction and the spec has no examples.'
        : 'No marked examples found and no teacher configured: the whole prompt is the instruction and the spec has no examples. Mark examples with "Input:" / "Output:" lines, or pass a `teacher` to let the LLM find them.',
    );
    return buildSpec({ instruction: text.trim(), examples: [], layout: 'plain' }, context, this.specOptions, notes);
  }

  async parse(prompt: string, context: StageContext): Promise<PromptSpec> {
    return (await this.parseDetailed(prompt, context)).spec;
  }
}

/** The default PromptParser (see DefaultPromptParser). */
export function createPromptParser(options: PromptParserOptions = {}): DefaultPromptParser {
  return new DefaultPromptParser(options);
}

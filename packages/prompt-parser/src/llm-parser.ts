import {
  estimateTokens,
  lazySchema,
  Prompt2ModelError,
  PromptSpecSchema,
  type PromptParser,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core/internal';
import { detectLanguage, languageName } from './language.js';
import type { SplitPrompt } from './layouts.js';
import { checkPromptBudget, checkPromptText, promptTokenBudget } from './prompt-checks.js';
import { buildSpec, emitProgress, STAGE, type PromptParseResult, type SpecOptions } from './spec-builder.js';

export interface LLMPromptParserOptions extends SpecOptions {
  /** Teacher answers to try before giving up (each bad answer is shown back with its error). Default 3. */
  maxAttempts?: number;
  /** Largest prompt, in estimated tokens; default half the teacher's context window when known. */
  maxPromptTokens?: number;
  /**
   * Require every example input to occur in the prompt (compared ignoring case, spacing and quotes),
   * so the teacher cannot invent demonstrations. Default true.
   */
  requireVerbatimExamples?: boolean;
}

export const LLM_PARSER_SYSTEM_PROMPT = `You split a task description, written by a user for a machine-learning system, into two parts:
- "instruction": what the task is, in the user's own words (keep the original language; do not translate, do not summarise, keep every requirement).
- "examples": the demonstrations of the task that the prompt contains, as {"input": ..., "output": ...} pairs, copied verbatim.
Rules: never invent examples; if the prompt contains none, return an empty list. Do not include the examples in the instruction.
Reply with a single JSON object: {"instruction": string, "examples": [{"input": string, "output": string}]}.

Example prompt:
I want a model that converts a date to ISO format. "March 3, 2021" should give "2021-03-03", and "1 Jan 1999" gives "1999-01-01".
Example reply:
{"instruction": "Convert a date to ISO format.", "examples": [{"input": "March 3, 2021", "output": "2021-03-03"}, {"input": "1 Jan 1999", "output": "1999-01-01"}]}`;

/** What the teacher must answer: core's PromptSpec fields (a non-empty instruction, {input, output} pairs). */
const LLMAnswerSchema = lazySchema(() => PromptSpecSchema.pick({ instruction: true, examples: true }));
export type LLMParserAnswer = Pick<PromptSpec, 'instruction' | 'examples'>;

/** Lower-case, quotes and whitespace removed: what "copied from the prompt" is checked on. */
function comparable(text: string): string {
  return text.toLowerCase().replace(/["'`“”‘’「」『』]/g, '').replace(/\s+/g, '');
}

/**
 * Splits a free-form prompt with the teacher LLM: asks for JSON matching a zod schema, validates
 * it (including that examples are copied from the prompt, not invented), and on a bad answer shows
 * the teacher its answer and the error and asks again; after `maxAttempts` it throws a
 * ValidationError. It never returns an empty instruction.
 */
export class LLMPromptParser implements PromptParser {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'llm';

  constructor(private readonly options: LLMPromptParserOptions = {}) {}

  /** The teacher's split of the prompt (no language or task-type work). */
  async split(prompt: string, context: StageContext): Promise<SplitPrompt & { attempts: number }> {
    const teacher = context.teacher;
    if (!teacher) {
      throw new Prompt2ModelError({
        message: 'The LLM prompt parser needs a teacher model, and none is configured.',
        hint: 'Pass a `teacher` (and OPENAI_API_KEY / `baseURL`), or mark the examples in the prompt with "Input:" / "Output:" lines so the deterministic parser can read it.',
      });
    }
    const text = checkPromptText(prompt);
    checkPromptBudget(text, promptTokenBudget(teacher, this.options.maxPromptTokens), teacher.modelId);
    const flat = comparable(text);
    // When the writing system settles the prompt's language, the instruction must stay in it: a
    // teacher that translates on its own would lose the original (translation is DeepL's job).
    const promptLanguage = detectLanguage(text);
    const schema = LLMAnswerSchema.superRefine((answer, issues) => {
      if (promptLanguage.method === 'script' && promptLanguage.confidence >= 0.9) {
        const answered = detectLanguage(answer.instruction);
        if (answered.language !== 'und' && answered.language !== promptLanguage.language) {
          issues.addIssue({
            code: 'custom',
            path: ['instruction'],
            message: `written in ${languageName(answered.language)}, but the prompt is in ${languageName(promptLanguage.language)}; copy the instruction in the prompt's language, do not translate it`,
          });
        }
      }
      if (this.options.requireVerbatimExamples === false) return;
      answer.examples.forEach((example, index) => {
        for (const field of ['input', 'output'] as const) {
          const value = comparable(example[field]);
          if (value !== '' && !flat.includes(value)) {
            issues.addIssue({ code: 'custom', path: ['examples', index, field], message: `not found in the prompt; copy examples verbatim and do not invent any` });
          }
        }
      });
    });
    const { object, attempts } = await teacher.generateObject(
      {
        messages: [
          { role: 'system', content: LLM_PARSER_SYSTEM_PROMPT },
          { role: 'user', content: text },
        ],
        temperature: 0,
        // The answer repeats the prompt's content, so it needs about as many tokens as the prompt.
        maxTokens: Math.min(16_384, estimateTokens(text) * 2 + 256),
        schemaName: 'prompt_split',
      },
      schema,
      { maxAttempts: this.options.maxAttempts ?? 3, stage: STAGE, signal: context.signal },
    );
    return { instruction: object.instruction, examples: object.examples, layout: 'llm', attempts };
  }

  async parseDetailed(prompt: string, context: StageContext): Promise<PromptParseResult> {
    emitProgress(context, 0);
    const split = await this.split(prompt, context);
    const result = await buildSpec(split, context, this.options);
    return { ...result, llmAttempts: split.attempts };
  }

  async parse(prompt: string, context: StageContext): Promise<PromptSpec> {
    return (await this.parseDetailed(prompt, context)).spec;
  }
}

import type { PromptParser, PromptSpec, StageContext } from '@prompt2model/core/internal';
import { LAYOUT_SPLITTERS, type PromptLayout, type SplitPrompt } from './layouts.js';
import { checkPromptBudget, checkPromptText, promptTokenBudget } from './prompt-checks.js';
import { buildSpec, emitProgress, note, type PromptParseResult, type SpecOptions } from './spec-builder.js';

export interface DeterministicPromptParserOptions extends SpecOptions {
  /** Layouts to recognise, in order. Default: json, json-list, sections, labeled-pairs, arrows. */
  layouts?: readonly Exclude<PromptLayout, 'plain'>[];
  /** Largest prompt, in estimated tokens; default half the teacher's context window when known. */
  maxPromptTokens?: number;
}

/**
 * Splits prompts that mark their examples, with no LLM: `Input:`/`Output:` (or `Q:`/`A:`,
 * `input="..."`, `入力:`/`出力:`, ...) pairs, Markdown `###` sections, a JSON object
 * `{instruction, examples}`, an instruction followed by a JSON list / JSON Lines of pairs, or
 * one example a line as `input -> output`.
 * A prompt in none of these layouts is read as an instruction without examples.
 */
export class DeterministicPromptParser implements PromptParser {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'deterministic';

  constructor(private readonly options: DeterministicPromptParserOptions = {}) {}

  /** The split of a prompt in a recognised layout, or undefined when none applies. */
  split(prompt: string): SplitPrompt | undefined {
    const text = checkPromptText(prompt);
    const allowed = this.options.layouts;
    for (const [layout, splitter] of LAYOUT_SPLITTERS) {
      if (allowed && !allowed.includes(layout as Exclude<PromptLayout, 'plain'>)) continue;
      const split = splitter(text);
      if (split) return split;
    }
    return undefined;
  }

  async parseDetailed(prompt: string, context: StageContext): Promise<PromptParseResult> {
    emitProgress(context, 0);
    const text = checkPromptText(prompt);
    checkPromptBudget(text, promptTokenBudget(context.teacher, this.options.maxPromptTokens), context.teacher?.modelId);
    const notes: string[] = [];
    let split = this.split(text);
    if (!split) {
      split = { instruction: text.trim(), examples: [], layout: 'plain' };
      note(context, notes, 'No marked examples found (Input:/Output:, Q:/A:, ### sections, a JSON list or `input -> output` lines): the whole prompt is the instruction and the spec has no examples.');
    }
    return buildSpec(split, context, this.options, notes);
  }

  async parse(prompt: string, context: StageContext): Promise<PromptSpec> {
    return (await this.parseDetailed(prompt, context)).spec;
  }
}


export * from './index.js';
export { LLM_PARSER_SYSTEM_PROMPT, type LLMParserAnswer } from './llm-parser.js';
export {
  splitArrows,
  splitJsonList,
  splitJsonObject,
  splitLabeledPairs,
  splitSections,
  type PromptLayout,
  type SplitPrompt,
} from './layouts.js';
export { toIso6391, DEFAULT_CANDIDATE_LANGUAGES } from './language.js';
export { inferTaskType, labelsFromInstruction, type TaskTypeInference } from './task-type.js';
export { checkExamples, checkPromptBudget, checkPromptText, garbledReason, MAX_PROMPT_CHARS, promptTokenBudget } from './prompt-checks.js';
export { buildSpec, type SpecOptions } from './spec-builder.js';

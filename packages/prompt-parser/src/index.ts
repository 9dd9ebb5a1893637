export { createPromptParser, DefaultPromptParser, type PromptParserOptions } from './prompt-parser.js';
export { DeterministicPromptParser, type DeterministicPromptParserOptions } from './deterministic-parser.js';
export { LLMPromptParser, LLM_PARSER_SYSTEM_PROMPT, type LLMPromptParserOptions, type LLMParserAnswer } from './llm-parser.js';
export {
  splitArrows,
  splitJsonList,
  splitJsonObject,
  splitLabeledPairs,
  splitSections,
  type PromptLayout,
  type SplitPrompt,
} from './layouts.js';
export {
  detectLanguage,
  languageName,
  toIso6391,
  DEFAULT_CANDIDATE_LANGUAGES,
  type DetectLanguageOptions,
  type LanguageDetection,
} from './language.js';
export { inferTaskType, labelsFromInstruction, type TaskTypeInference } from './task-type.js';
export { createDeepLTranslator, type DeepLProviderSettings } from './deepl-provider.js';
export {
  DeepLTranslator,
  type DeepLTranslatorOptions,
  type InstructionTranslator,
  type TranslateRequest,
  type TranslateResult,
} from './translation.js';
export { checkExamples, checkPromptBudget, checkPromptText, garbledReason, MAX_PROMPT_CHARS, promptTokenBudget } from './prompt-checks.js';
export { buildSpec, type PromptParseResult, type SpecOptions, type TranslationOutcome } from './spec-builder.js';

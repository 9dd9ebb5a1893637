/**
 * @prompt2model/prompt-parser: the PromptParser stage. Splits a prompt into instruction and
 * examples (deterministic layouts, or a teacher), detects its language, translates it with DeepL
 * and infers the task type. Layout splitters and checks are under `@prompt2model/prompt-parser/internal`.
 */
export { createPromptParser, DefaultPromptParser, type PromptParserOptions } from './prompt-parser.js';
export { DeterministicPromptParser, type DeterministicPromptParserOptions } from './deterministic-parser.js';
export { LLMPromptParser, type LLMPromptParserOptions } from './llm-parser.js';
export { detectLanguage, languageName, type DetectLanguageOptions, type LanguageDetection } from './language.js';
export { createDeepLTranslator, type DeepLProviderSettings } from './deepl-provider.js';
export {
  DeepLTranslator,
  type DeepLTranslatorOptions,
  type InstructionTranslator,
  type TranslateRequest,
  type TranslateResult,
} from './translation.js';
export type { PromptParseResult, TranslationOutcome } from './spec-builder.js';

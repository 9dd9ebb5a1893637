/**
 * `@prompt2model/openai/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/openai`.
 */
export { OpenAIChatLanguageModel, toAPICallError, type OpenAIChatSettings, type OpenAIProviderSettings } from './openai-chat-language-model.js';
export { createOpenAI, openai, type OpenAIProvider } from './openai-provider.js';
export { OpenAIBatchLanguageModel, createOpenAIBatchTeacher, type OpenAIBatchOptions } from './openai-batch-language-model.js';
export {
  OpenAIFineTuningBackend,
  OPENAI_TRAINING_PRICES,
  OPENAI_DATA_RULES,
  type OpenAIFineTuningBackendOptions,
} from './openai-fine-tuning-backend.js';

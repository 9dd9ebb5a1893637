export { OpenAIChatLanguageModel, toAPICallError, type OpenAIChatSettings, type OpenAIProviderSettings } from './openai-chat-language-model.js';
export { createOpenAI, openai, type OpenAIProvider } from './openai-provider.js';
export { OpenAIBatchLanguageModel, createOpenAIBatchTeacher, type OpenAIBatchOptions } from './openai-batch-language-model.js';
export {
  OpenAIFineTuningBackend,
  OPENAI_TRAINING_PRICES,
  OPENAI_DATA_RULES,
  type OpenAIFineTuningBackendOptions,
} from './openai-fine-tuning-backend.js';
export { OPENAI_EXAMPLE_TOKEN_LIMITS, openAIExampleTokenLimit, openAIEncodingOf, openAIChatTokenCounter } from './openai-fine-tuning-tokens.js';

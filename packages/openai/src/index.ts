export { OpenAIChatLanguageModel, toAPICallError, type OpenAIChatSettings } from './openai-chat-language-model.js';
export {
  createOpenAI,
  createOpenAIFineTuningBackend,
  openai,
  type OpenAIProvider,
  type OpenAIProviderSettings,
  type OpenAIFineTuningBackendOptions,
} from './openai-provider.js';
export { DEFAULT_OPENAI_BASE_URL, type OpenAIConfig } from './openai-config.js';
export { OpenAIBatchLanguageModel, createOpenAIBatchTeacher, type OpenAIBatchOptions } from './openai-batch-language-model.js';
export {
  OpenAIFineTuningBackend,
  OPENAI_TRAINING_PRICES,
  OPENAI_DATA_RULES,
  type OpenAIFineTuningOptions,
} from './openai-fine-tuning-backend.js';

/**
 * @prompt2model/openai: language models over any OpenAI-compatible endpoint, the OpenAI Batch API
 * teacher and the OpenAI fine-tuning backend. The SDK-error mapping is under `@prompt2model/openai/internal`.
 */
export { OpenAIChatLanguageModel, type OpenAIChatSettings } from './openai-chat-language-model.js';
export {
  createOpenAI,
  createOpenAIFineTuningBackend,
  openai,
  type OpenAIProvider,
  type OpenAIProviderSettings,
  type OpenAIFineTuningBackendOptions,
} from './openai-provider.js';
export { OpenAIBatchLanguageModel, createOpenAIBatchTeacher, type OpenAIBatchOptions } from './openai-batch-language-model.js';
export {
  OpenAIFineTuningBackend,
  OPENAI_TRAINING_PRICES,
  OPENAI_DATA_RULES,
  type OpenAIFineTuningOptions,
} from './openai-fine-tuning-backend.js';

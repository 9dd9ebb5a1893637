export { OpenAIChatLanguageModel, toAPICallError, type OpenAIChatSettings, type OpenAIProviderSettings } from './openai-chat-language-model.js';
export { createOpenAI, openai, type OpenAIProvider } from './openai-provider.js';

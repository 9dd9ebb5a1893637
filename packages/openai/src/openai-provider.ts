import { OpenAIChatLanguageModel, type OpenAIChatSettings, type OpenAIProviderSettings } from './openai-chat-language-model.js';

export interface OpenAIProvider {
  (modelId: string, settings?: OpenAIChatSettings): OpenAIChatLanguageModel;
  chat(modelId: string, settings?: OpenAIChatSettings): OpenAIChatLanguageModel;
}

/**
 * A provider for OpenAI and every OpenAI-compatible server (Azure, vLLM, Ollama, llama.cpp,
 * Together, ...): `createOpenAI({ baseURL, apiKey })('model-id')`. Options fall back to
 * `OPENAI_BASE_URL` and `OPENAI_API_KEY`, read when a model is created.
 */
export function createOpenAI(settings: OpenAIProviderSettings = {}): OpenAIProvider {
  const chat = (modelId: string, chatSettings?: OpenAIChatSettings) => new OpenAIChatLanguageModel(modelId, settings, chatSettings);
  const provider = ((modelId: string, chatSettings?: OpenAIChatSettings) => chat(modelId, chatSettings)) as OpenAIProvider;
  provider.chat = chat;
  return provider;
}

/** The default provider, configured from the environment. */
export const openai: OpenAIProvider = createOpenAI();

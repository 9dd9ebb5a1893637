import { loadSetting, type SettingsEnvironment } from '@prompt2model/core/internal';
import { OpenAIBatchLanguageModel, type OpenAIBatchOptions } from './openai-batch-language-model.js';
import { OpenAIChatLanguageModel, type OpenAIChatSettings } from './openai-chat-language-model.js';
import { DEFAULT_OPENAI_BASE_URL, type OpenAIConfig } from './openai-config.js';
import { OpenAIFineTuningBackend, type OpenAIFineTuningOptions } from './openai-fine-tuning-backend.js';

export interface OpenAIProviderSettings {
  /** Base URL of the API; default `OPENAI_BASE_URL`, else https://api.openai.com/v1. */
  baseURL?: string;
  /** API key; default `OPENAI_API_KEY`. Local servers (vLLM, Ollama) may need none. */
  apiKey?: string;
  organization?: string;
  /** Extra headers on every request (e.g. Azure's `api-key`). */
  headers?: Record<string, string>;
  /** Custom fetch (proxies, tests). */
  fetch?: typeof globalThis.fetch;
  /** Where unset settings are read: default the process environment (the CLI passes its own). */
  env?: SettingsEnvironment;
}

export interface OpenAIProvider {
  (modelId: string, settings?: OpenAIChatSettings): OpenAIChatLanguageModel;
  chat(modelId: string, settings?: OpenAIChatSettings): OpenAIChatLanguageModel;
  /** A model over the Batch API (half price, hours of latency); see `createOpenAIBatchTeacher`. */
  batch(options: OpenAIBatchOptions): OpenAIBatchLanguageModel;
  /** The OpenAI fine-tuning training backend on this endpoint and key. */
  fineTuning(options?: OpenAIFineTuningOptions): OpenAIFineTuningBackend;
  /** The settings every model of this provider uses (the key stays behind a function). */
  readonly config: OpenAIConfig;
}

/**
 * A provider for OpenAI and every OpenAI-compatible server (Azure, vLLM, Ollama, llama.cpp,
 * Together, ...): `createOpenAI({ baseURL, apiKey })('model-id')`. This is the one place the
 * OpenAI settings are resolved: the base URL now (option, else `OPENAI_BASE_URL`, else OpenAI),
 * the key on first use (option, else `OPENAI_API_KEY`), once for every model it creates.
 */
export function createOpenAI(settings: OpenAIProviderSettings = {}): OpenAIProvider {
  const env = settings.env ? { env: settings.env } : {};
  const baseURL = loadSetting({ settingValue: settings.baseURL, environmentVariableName: 'OPENAI_BASE_URL', defaultValue: DEFAULT_OPENAI_BASE_URL, ...env })!.replace(/\/+$/, '');
  let apiKey: { value: string | undefined } | undefined;
  const config: OpenAIConfig = {
    baseURL,
    apiKey: () => (apiKey ??= { value: loadSetting({ settingValue: settings.apiKey, environmentVariableName: 'OPENAI_API_KEY', ...env }) }).value,
    organization: settings.organization,
    headers: settings.headers,
    fetch: settings.fetch,
  };
  const chat = (modelId: string, chatSettings?: OpenAIChatSettings) => new OpenAIChatLanguageModel(modelId, config, chatSettings);
  const provider = ((modelId: string, chatSettings?: OpenAIChatSettings) => chat(modelId, chatSettings)) as OpenAIProvider;
  provider.chat = chat;
  provider.batch = (options) => new OpenAIBatchLanguageModel(config, options);
  provider.fineTuning = (options = {}) => new OpenAIFineTuningBackend(config, options);
  Object.defineProperty(provider, 'config', { value: config, enumerable: true });
  return provider;
}

/** The default provider, configured from the environment. */
export const openai: OpenAIProvider = createOpenAI();

/** The fine-tuning backend from provider settings and backend options in one object (the training-backend registry's shape). */
export type OpenAIFineTuningBackendOptions = OpenAIProviderSettings & OpenAIFineTuningOptions;

/** `createOpenAI(settings).fineTuning(options)` from one object. */
export function createOpenAIFineTuningBackend(options: OpenAIFineTuningBackendOptions = {}): OpenAIFineTuningBackend {
  const { baseURL, apiKey, organization, headers, fetch, env, ...backend } = options;
  const settings: OpenAIProviderSettings = {
    ...(baseURL !== undefined ? { baseURL } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(organization !== undefined ? { organization } : {}),
    ...(headers ? { headers } : {}),
    ...(fetch ? { fetch } : {}),
    ...(env ? { env } : {}),
  };
  return createOpenAI(settings).fineTuning(backend);
}

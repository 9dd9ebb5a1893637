import { createProviderRegistry, loadSetting, type ProviderRegistry, type SettingsEnvironment } from '@prompt2model/core';
import { createHuggingFace, type HuggingFaceProviderSettings } from '@prompt2model/huggingface';
import { createOpenAI, type OpenAIProviderSettings } from '@prompt2model/openai';

/** Settings of each model provider; unset fields come from the environment (core's settings). */
export interface ModelProviderSettings {
  openai?: OpenAIProviderSettings;
  huggingface?: HuggingFaceProviderSettings;
  /** Where unset settings are read (default the process environment; the CLI passes its own). */
  env?: SettingsEnvironment;
}

/** Provider prefixes of model names: `openai:gpt-4o-mini`, `hf:meta-llama/Llama-3.3-70B-Instruct`. */
export const MODEL_PROVIDERS = ['openai', 'hf'] as const;
export const DEFAULT_MODEL_PROVIDER = 'openai';

/**
 * The one table that turns a model name into a LanguageModel: `openai:<id>` (also `openai:ft:...`),
 * `hf:<id>`, or a bare id for the default provider (OpenAI-compatible, so OPENAI_BASE_URL points a
 * bare id at vLLM, Ollama, ...). Adding a provider is one package and one entry here.
 */
export function createModelRegistry(settings: ModelProviderSettings = {}): ProviderRegistry {
  const env = settings.env;
  const openaiSettings: OpenAIProviderSettings = {
    ...settings.openai,
    ...optional('baseURL', loadSetting({ settingValue: settings.openai?.baseURL, environmentVariableName: 'OPENAI_BASE_URL', ...(env ? { env } : {}) })),
    ...optional('apiKey', loadSetting({ settingValue: settings.openai?.apiKey, environmentVariableName: 'OPENAI_API_KEY', ...(env ? { env } : {}) })),
  };
  const huggingfaceSettings: HuggingFaceProviderSettings = {
    ...settings.huggingface,
    ...optional('accessToken', loadSetting({ settingValue: settings.huggingface?.accessToken, environmentVariableName: 'HF_TOKEN', ...(env ? { env } : {}) })),
    ...optional('endpointUrl', loadSetting({ settingValue: settings.huggingface?.endpointUrl, environmentVariableName: 'HF_ENDPOINT_URL', ...(env ? { env } : {}) })),
  };
  const openai = createOpenAI(openaiSettings);
  const huggingface = createHuggingFace(huggingfaceSettings);
  return createProviderRegistry(
    {
      openai: (modelId) => openai(modelId),
      hf: (modelId) => huggingface(modelId),
    },
    { defaultProvider: DEFAULT_MODEL_PROVIDER },
  );
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

import { createProviderRegistry, parseModelName, type ProviderRegistry, type SettingName, type SettingsEnvironment } from '@prompt2model/core/internal';
import { createHuggingFace, type HuggingFaceProvider, type HuggingFaceProviderSettings } from '@prompt2model/huggingface';
import { createOpenAI, type OpenAIProvider, type OpenAIProviderSettings } from '@prompt2model/openai/internal';

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
  const providers = createModelProviders(settings);
  return createProviderRegistry(
    {
      openai: (modelId) => providers.openai(modelId),
      hf: (modelId) => providers.hf(modelId),
    },
    { defaultProvider: DEFAULT_MODEL_PROVIDER },
  );
}

/** One provider per prefix; each provider's factory resolves its own settings (option, else the environment) once. */
export function createModelProviders(settings: ModelProviderSettings = {}): { openai: OpenAIProvider; hf: HuggingFaceProvider } {
  const env = settings.env ? { env: settings.env } : {};
  return { openai: createOpenAI({ ...env, ...settings.openai }), hf: createHuggingFace({ ...env, ...settings.huggingface }) };
}

/** What a provider lacks before its models can be called: the missing setting and how to supply it. */
export interface MissingProviderSetting {
  provider: (typeof MODEL_PROVIDERS)[number];
  environmentVariableName: SettingName;
  message: string;
  hint: string;
}

/**
 * Whether the provider a model name picks has the settings its calls need, read from that
 * provider's resolved config (so `hf:` checks HF_TOKEN / HF_ENDPOINT_URL, not OpenAI's). Undefined
 * when it has them, or when the name is a local folder (no provider).
 */
export function missingProviderSetting(name: string, settings: ModelProviderSettings = {}): MissingProviderSetting | undefined {
  const parsed = parseModelName(name, { providers: MODEL_PROVIDERS, defaultProvider: DEFAULT_MODEL_PROVIDER });
  if (parsed.kind !== 'provider') return undefined;
  const providers = createModelProviders(settings);
  if (parsed.provider === 'hf') {
    const { config } = providers.hf;
    if (config.accessToken() || config.endpointUrl) return undefined;
    return {
      provider: 'hf',
      environmentVariableName: 'HF_TOKEN',
      message: `The model "${name}" runs on Hugging Face Inference Providers, which need a token, and HF_TOKEN is not set.`,
      hint: 'export HF_TOKEN=hf_... (a token with the "Inference Providers" permission), or HF_ENDPOINT_URL=<your TGI/vLLM server>.',
    };
  }
  const { config } = providers.openai;
  if (config.apiKey() || new URL(config.baseURL).hostname !== 'api.openai.com') return undefined;
  return {
    provider: 'openai',
    environmentVariableName: 'OPENAI_API_KEY',
    message: `The model "${name}" is called through the OpenAI API, and OPENAI_API_KEY is not set.`,
    hint: 'export OPENAI_API_KEY=... , or set `baseURL` (OPENAI_BASE_URL) to an OpenAI-compatible server.',
  };
}

import { loadSetting, type SettingsEnvironment } from '@prompt2model/core/internal';
import { HuggingFaceChatLanguageModel, type HuggingFaceChatSettings, type HuggingFaceConfig } from './huggingface-chat-language-model.js';

export interface HuggingFaceProviderSettings {
  /** Hugging Face access token; default `HF_TOKEN`. */
  accessToken?: string;
  /**
   * A dedicated Inference Endpoint or any TGI/vLLM server URL; default `HF_ENDPOINT_URL`. When
   * set, requests go to `<endpointUrl>/v1/chat/completions` instead of Inference Providers routing.
   */
  endpointUrl?: string;
  /** Inference Provider to route to (`auto`, `together`, `fireworks-ai`, `hf-inference`, ...). Default `auto`. */
  provider?: string;
  /** Organisation to bill Inference Providers usage to. */
  billTo?: string;
  fetch?: typeof globalThis.fetch;
  /** Where unset settings are read: default the process environment (the CLI passes its own). */
  env?: SettingsEnvironment;
}

export interface HuggingFaceProvider {
  (modelId: string, chat?: HuggingFaceChatSettings): HuggingFaceChatLanguageModel;
  readonly config: HuggingFaceConfig;
}

/**
 * `createHuggingFace({ endpointUrl })('model-id')`, or Inference Providers routing without an
 * endpoint. The one place the Hugging Face inference settings are resolved: the endpoint now
 * (option, else `HF_ENDPOINT_URL`), the token on first use (option, else `HF_TOKEN`).
 */
export function createHuggingFace(settings: HuggingFaceProviderSettings = {}): HuggingFaceProvider {
  const env = settings.env ? { env: settings.env } : {};
  let token: { value: string | undefined } | undefined;
  const config: HuggingFaceConfig = {
    accessToken: () => (token ??= { value: loadSetting({ settingValue: settings.accessToken, environmentVariableName: 'HF_TOKEN', ...env })?.trim() || undefined }).value,
    endpointUrl: loadSetting({ settingValue: settings.endpointUrl, environmentVariableName: 'HF_ENDPOINT_URL', ...env }),
    provider: settings.provider,
    billTo: settings.billTo,
    fetch: settings.fetch,
  };
  const provider = ((modelId: string, chat?: HuggingFaceChatSettings) => new HuggingFaceChatLanguageModel(modelId, config, chat)) as HuggingFaceProvider;
  Object.defineProperty(provider, 'config', { value: config, enumerable: true });
  return provider;
}

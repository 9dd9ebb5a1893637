import { loadSetting, type SettingsEnvironment } from '@prompt2model/core/internal';
import { DeepLTranslator, type DeepLTranslatorOptions } from './translation.js';

export interface DeepLProviderSettings extends Partial<DeepLTranslatorOptions> {
  /** Where unset settings are read: default the process environment (the CLI passes its own). */
  env?: SettingsEnvironment;
}

/**
 * The one place DeepL's settings are resolved: `authKey` (else `DEEPL_AUTH_KEY`) and `serverUrl`
 * (else `DEEPL_SERVER_URL`). Undefined without a key, so translation is simply off.
 */
export function createDeepLTranslator(settings: DeepLProviderSettings = {}): DeepLTranslator | undefined {
  const { env, ...options } = settings;
  const where = env ? { env } : {};
  const authKey = loadSetting({ settingValue: options.authKey, environmentVariableName: 'DEEPL_AUTH_KEY', ...where });
  if (!authKey || authKey.trim() === '') return undefined;
  const serverUrl = loadSetting({ settingValue: options.serverUrl, environmentVariableName: 'DEEPL_SERVER_URL', ...where });
  return new DeepLTranslator({ ...options, authKey: authKey.trim(), ...(serverUrl ? { serverUrl } : {}) });
}

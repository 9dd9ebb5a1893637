import { loadSetting } from '@prompt2model/core/internal';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** The Hub base URL without a trailing slash: the option, else `HF_ENDPOINT`, else huggingface.co. */
export function resolveHubUrl(hubUrl?: string): string {
  return loadSetting({ settingValue: hubUrl, environmentVariableName: 'HF_ENDPOINT', defaultValue: DEFAULT_HUB_URL })!.replace(/\/+$/, '');
}

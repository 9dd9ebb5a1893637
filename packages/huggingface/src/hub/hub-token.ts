import { loadSetting } from '@prompt2model/core/internal';

/** The Hub access token: the option, else `HF_TOKEN`; undefined for anonymous access. */
export function resolveHubToken(accessToken?: string): string | undefined {
  return loadSetting({ settingValue: accessToken, environmentVariableName: 'HF_TOKEN' });
}

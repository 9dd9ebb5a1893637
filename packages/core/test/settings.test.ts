import { describe, expect, it } from 'vitest';
import { LoadSettingError, SETTINGS, childProcessEnvironment, loadApiKey, loadSetting, prompt2modelCacheDir, secretSettingValues } from '../src/internal.js';

describe('settings (the one reader of environment variables)', () => {
  it('prefers the option, then the variable, then the default; an empty value counts as unset', () => {
    const env = { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', HF_TOKEN: '' };
    expect(loadSetting({ settingValue: 'http://x/v1', environmentVariableName: 'OPENAI_BASE_URL', env })).toBe('http://x/v1');
    expect(loadSetting({ environmentVariableName: 'OPENAI_BASE_URL', env })).toBe('http://127.0.0.1:1/v1');
    expect(loadSetting({ environmentVariableName: 'HF_TOKEN', env })).toBeUndefined();
    expect(loadSetting({ environmentVariableName: 'HF_ENDPOINT', env, defaultValue: 'https://huggingface.co' })).toBe('https://huggingface.co');
  });

  it('a missing API key is a LoadSettingError whose hint names the variable and the flag', () => {
    const error = (() => {
      try {
        return loadApiKey({ environmentVariableName: 'DEEPL_AUTH_KEY', description: 'DeepL', optionName: '--deepl-key', env: {} });
      } catch (caught) {
        return caught;
      }
    })();
    expect(LoadSettingError.isInstance(error)).toBe(true);
    expect((error as LoadSettingError).environmentVariableName).toBe('DEEPL_AUTH_KEY');
    expect((error as LoadSettingError).hint).toMatch(/export DEEPL_AUTH_KEY=.*--deepl-key/);
    expect(loadApiKey({ environmentVariableName: 'DEEPL_AUTH_KEY', description: 'DeepL', env: { DEEPL_AUTH_KEY: 'k:fx' } })).toBe('k:fx');
  });

  it('derives the cache folder and child environments, and lists secret values for redaction', () => {
    expect(prompt2modelCacheDir({ P2M_CACHE_DIR: '/c' })).toBe('/c');
    expect(prompt2modelCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/prompt2model');
    expect(childProcessEnvironment({ A: '1' }, { env: { PATH: '/bin' } })).toEqual({ PATH: '/bin', A: '1' });
    expect(secretSettingValues({ OPENAI_API_KEY: 'sk-test-value', OPENAI_BASE_URL: 'http://h' })).toEqual(['sk-test-value']);
    expect(Object.keys(SETTINGS)).toEqual(expect.arrayContaining(['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'HF_TOKEN', 'HF_ENDPOINT', 'DEEPL_AUTH_KEY', 'P2M_CACHE_DIR']));
  });
});

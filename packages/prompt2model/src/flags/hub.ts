import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { loadSetting, type SettingsEnvironment } from '@prompt2model/core/settings';
import type { FetchHubModelsOptions } from '@prompt2model/huggingface/hub';
import { parseNumber, type CliRuntime, type GlobalOptions } from '../runtime.js';
import { splitList } from './lists.js';

/** Flags of `addHubOptions`. */
export interface HubCliOptions {
  hubUrl?: string;
  hubToken?: string;
  /** A folder, or false with --no-hub-cache. */
  hubCache?: string | false;
  task: string[];
  limit: number;
}

/** Hub flags shared by every verb that lists the Hub (`models search`, `index build`). */
export function addHubOptions(command: Command): Command {
  return command
    .option('--hub-url <url>', 'Hugging Face Hub URL (default: HF_ENDPOINT, else https://huggingface.co)')
    .option('--hub-token <token>', 'Hub access token (default: HF_TOKEN)')
    .option('--hub-cache <dir>', 'cache folder for Hub listings and cards (default: $P2M_CACHE_DIR/hub or ~/.cache/prompt2model/hub)')
    .option('--no-hub-cache', 'do not read or write the Hub cache')
    .addOption(new Option('--task <list>', 'Hub pipeline tags to list, comma-separated').argParser(splitList).default(['text2text-generation', 'text-generation'], 'text2text-generation,text-generation'))
    .addOption(new Option('--limit <n>', 'most models per task, most downloaded first').argParser(parseNumber('--limit', { integer: true, min: 1 })).default(1000));
}

/** Hub access from --hub-url, --hub-token and --hub-cache, else HF_ENDPOINT, HF_TOKEN and $P2M_CACHE_DIR/hub. */
export function hubAccessFrom(
  options: { hubUrl?: string; hubToken?: string; hubCache?: string | false },
  env: SettingsEnvironment,
): { hubUrl?: string; accessToken?: string; cacheDir?: string | false; cacheRoot?: string } {
  const hubUrl = loadSetting({ settingValue: options.hubUrl, environmentVariableName: 'HF_ENDPOINT', env });
  const accessToken = loadSetting({ settingValue: options.hubToken, environmentVariableName: 'HF_TOKEN', env });
  const cacheRoot = loadSetting({ environmentVariableName: 'P2M_CACHE_DIR', env });
  return {
    ...(hubUrl ? { hubUrl } : {}),
    ...(accessToken ? { accessToken } : {}),
    ...(options.hubCache !== undefined
      ? { cacheDir: options.hubCache === false ? false : resolve(options.hubCache) }
      : cacheRoot
        ? { cacheDir: resolve(cacheRoot, 'hub') }
        : {}),
    ...(cacheRoot ? { cacheRoot } : {}),
  };
}

/** Hub client options from the flags and the environment (HF_TOKEN, HF_ENDPOINT). */
export function hubOptionsFrom(options: HubCliOptions & GlobalOptions, runtime: CliRuntime): FetchHubModelsOptions & { hubUrl: string } {
  const { hubUrl = 'https://huggingface.co', cacheRoot: _cacheRoot, ...access } = hubAccessFrom(options, runtime.io.env);
  return {
    hubUrl,
    ...access,
    tasks: options.task,
    limitPerTask: options.limit,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    signal: runtime.signal,
  };
}

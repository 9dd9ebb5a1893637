import { homedir } from 'node:os';
import { join } from 'node:path';
import { LoadSettingError } from './errors/load-setting-error.js';

/**
 * The one place that reads settings from the environment (after vercel/ai's `loadApiKey` /
 * `loadSetting`): an explicit option wins, then the environment variable, then the default.
 * Stage packages never read `process.env`; they call these, so every setting is listed here and
 * tests can pass their own environment.
 */

/** Where settings are read from: `process.env` unless a caller (a test, the CLI) passes its own. */
export type SettingsEnvironment = Readonly<Record<string, string | undefined>>;

/** Every environment variable prompt2model reads, and what it is for. */
export const SETTINGS = {
  OPENAI_API_KEY: { description: 'API key of the OpenAI(-compatible) endpoint', secret: true },
  OPENAI_BASE_URL: { description: 'base URL of an OpenAI-compatible endpoint (default https://api.openai.com/v1)', secret: false },
  HF_TOKEN: { description: 'Hugging Face access token (Hub and Inference Providers)', secret: true },
  HF_ENDPOINT: { description: 'Hugging Face Hub URL (default https://huggingface.co)', secret: false },
  HF_DATASET_VIEWER_URL: { description: 'Hugging Face dataset viewer API URL (default https://datasets-server.huggingface.co)', secret: false },
  HF_ENDPOINT_URL: { description: 'a dedicated Inference Endpoint / TGI server for hf: models', secret: false },
  DEEPL_AUTH_KEY: { description: 'DeepL API key (translate non-English instructions)', secret: true },
  DEEPL_SERVER_URL: { description: 'DeepL API server (default: chosen from the key)', secret: false },
  P2M_TEACHER: { description: 'teacher model of the CLI (default gpt-4o-mini)', secret: false },
  P2M_CACHE_DIR: { description: 'cache folder (default $XDG_CACHE_HOME/prompt2model or ~/.cache/prompt2model)', secret: false },
  P2M_PYTHON: { description: 'Python interpreter of the training worker (default python3)', secret: false },
  P2M_WORKER_COMMAND: { description: 'JSON argv of a custom training worker (default: python -m p2m_worker)', secret: false },
  P2M_PREDICT_COMMAND: { description: 'command that runs a trained model over inputs (default: the worker)', secret: false },
  P2M_THREADS: { description: 'CPU threads of the Python worker for training, export and predict (default: from the cores it may use)', secret: false },
  P2M_SERVE_API_KEY: { description: 'key clients of `prompt2model serve` send as a bearer token (default beyond loopback: a random one)', secret: true },
  XDG_CACHE_HOME: { description: 'base cache folder (freedesktop convention)', secret: false },
} as const satisfies Record<string, { description: string; secret: boolean }>;

export type SettingName = keyof typeof SETTINGS;

/** The process environment; the default source of every setting. */
export function processEnvironment(): SettingsEnvironment {
  return process.env;
}

/**
 * A setting: `settingValue` when given, else the environment variable (an empty value counts as
 * unset), else `defaultValue`.
 */
export function loadSetting(options: {
  settingValue?: string | undefined;
  environmentVariableName: SettingName;
  defaultValue?: string;
  env?: SettingsEnvironment;
}): string | undefined {
  if (options.settingValue !== undefined && options.settingValue !== '') return options.settingValue;
  const fromEnv = (options.env ?? process.env)[options.environmentVariableName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return options.defaultValue;
}

/** Like `loadSetting`, but a missing value is an error whose hint names the variable and the option. */
export function loadApiKey(options: {
  apiKey?: string | undefined;
  environmentVariableName: SettingName;
  /** What needs the key, e.g. `OpenAI`. */
  description: string;
  /** The CLI flag or option that also supplies it, named in the hint. */
  optionName?: string;
  hint?: string;
  env?: SettingsEnvironment;
}): string {
  const value = loadSetting({ settingValue: options.apiKey, environmentVariableName: options.environmentVariableName, ...(options.env ? { env: options.env } : {}) });
  if (value !== undefined) return value;
  throw new LoadSettingError({
    message: `No ${options.description} API key: ${options.environmentVariableName} is not set.`,
    environmentVariableName: options.environmentVariableName,
    hint: options.hint ?? `export ${options.environmentVariableName}=...${options.optionName ? ` , or pass ${options.optionName}` : ''}.`,
  });
}

/** prompt2model's cache folder: `P2M_CACHE_DIR`, else `$XDG_CACHE_HOME/prompt2model`, else `~/.cache/prompt2model`. */
export function prompt2modelCacheDir(env: SettingsEnvironment = process.env): string {
  return (
    loadSetting({ environmentVariableName: 'P2M_CACHE_DIR', env }) ??
    join(loadSetting({ environmentVariableName: 'XDG_CACHE_HOME', env }) ?? join(homedir(), '.cache'), 'prompt2model')
  );
}

/**
 * The environment for a child process (the Python worker, export, predict, setup, a
 * remote-training command): the caller's environment without the secret settings the child does
 * not need, plus `extra`. The child inherits PATH, proxies and the rest, as from a shell, but an
 * API key never reaches a process that makes no call with it: `keep` names the secrets it needs
 * (`HF_TOKEN` for a job that reaches the Hub). A secret given in `extra` is passed on purpose.
 */
export function childProcessEnvironment(
  extra: Record<string, string | undefined> = {},
  options: { keep?: readonly SettingName[]; env?: SettingsEnvironment } = {},
): NodeJS.ProcessEnv {
  const keep = new Set<string>(options.keep ?? []);
  const child: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (SETTINGS[name].secret && !keep.has(name)) delete child[name];
  }
  return { ...child, ...extra };
}

/** The values of every secret setting present in `env`, for redaction. */
export function secretSettingValues(env: SettingsEnvironment = process.env): string[] {
  return (Object.keys(SETTINGS) as SettingName[]).filter((name) => SETTINGS[name].secret).flatMap((name) => (env[name] ? [env[name]!] : []));
}

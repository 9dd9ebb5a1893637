import type OpenAI from 'openai';
import { LoadSettingError } from '@prompt2model/core/internal';
import { loadOpenAISdk } from './openai-sdk.js';

export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * What `createOpenAI` resolved once and hands to every model and backend it creates (after the AI
 * SDK's provider config): the base URL, and the key as a lazy function, so a provider created
 * without a key fails only when a request needs one. Nothing that receives it reads the environment.
 */
export interface OpenAIConfig {
  /** The API root without a trailing slash. */
  readonly baseURL: string;
  /** The API key, resolved on first use (undefined: none given, which local servers accept). */
  readonly apiKey: () => string | undefined;
  readonly organization?: string | undefined;
  /** Extra headers on every request (e.g. Azure's `api-key`). */
  readonly headers?: Record<string, string> | undefined;
  readonly fetch?: typeof globalThis.fetch | undefined;
}

/** Whether the config points at OpenAI itself (which needs a key, and takes `max_completion_tokens`). */
export function isOpenAIItself(config: OpenAIConfig): boolean {
  return new URL(config.baseURL).hostname === 'api.openai.com';
}

/** The values to scrub from error messages: the key, when there is one. */
export function configSecrets(config: OpenAIConfig): string[] {
  const key = config.apiKey();
  return key ? [key] : [];
}

/**
 * An SDK client for the config. OpenAI itself without a key is a setup error, raised here once
 * for chat models, batches and fine-tuning alike; other servers get a placeholder key.
 */
export async function createOpenAIClient(config: OpenAIConfig, options: { maxRetries: number; timeout?: number }): Promise<OpenAI> {
  const apiKey = config.apiKey();
  if (!apiKey && isOpenAIItself(config)) {
    throw new LoadSettingError({
      message: 'No OpenAI API key: OPENAI_API_KEY is not set.',
      environmentVariableName: 'OPENAI_API_KEY',
      hint: 'export OPENAI_API_KEY=... , or set `baseURL` to an OpenAI-compatible server that needs no key.',
    });
  }
  const { default: OpenAISDK } = await loadOpenAISdk();
  return new OpenAISDK({
    apiKey: apiKey ?? 'no-key',
    baseURL: config.baseURL,
    organization: config.organization ?? null,
    ...(config.headers ? { defaultHeaders: config.headers } : {}),
    maxRetries: options.maxRetries,
    ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    ...(config.fetch ? { fetch: config.fetch } : {}),
  });
}

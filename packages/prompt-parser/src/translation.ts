import { APICallError, Prompt2ModelError } from '@prompt2model/core/internal';

export interface TranslateRequest {
  /** ISO 639-1 source language; undefined lets the service detect it. */
  sourceLanguage?: string;
  /** ISO 639-1 target language, `en` for the instruction. */
  targetLanguage: string;
  signal?: AbortSignal;
}

export interface TranslateResult {
  text: string;
  /** ISO 639-1 code of the source language as the service saw it. */
  detectedSourceLanguage?: string;
  billedCharacters?: number;
}

/** Translates an instruction. The default is DeepL; any service fits behind this interface. */
export interface InstructionTranslator {
  readonly name: string;
  translate(text: string, request: TranslateRequest): Promise<TranslateResult>;
}

export interface DeepLTranslatorOptions {
  /** DeepL API key (`DEEPL_AUTH_KEY`). Keys ending in `:fx` use the free API server. */
  authKey: string;
  /** API server, e.g. `https://api.deepl.com` or a proxy (`DEEPL_SERVER_URL`). Default: chosen from the key. */
  serverUrl?: string;
  /** Retries deepl-node makes on 429/5xx and connection errors (its own backoff). Default 3. */
  maxRetries?: number;
  /** Per-request timeout in milliseconds. Default 10,000. */
  timeoutMs?: number;
}

/** Source languages DeepL accepts (ISO 639-1); others are sent without a source so DeepL detects it. */
const DEEPL_SOURCE_LANGUAGES = new Set([
  'ar', 'bg', 'cs', 'da', 'de', 'el', 'en', 'es', 'et', 'fi', 'fr', 'he', 'hu', 'id', 'it', 'ja', 'ko', 'lt',
  'lv', 'nb', 'nl', 'pl', 'pt', 'ro', 'ru', 'sk', 'sl', 'sv', 'th', 'tr', 'uk', 'vi', 'zh',
]);

/** DeepL target code for an ISO 639-1 code; English must name a variant. */
function deeplTarget(language: string): string {
  if (language === 'en') return 'en-US';
  if (language === 'pt') return 'pt-BR';
  return language;
}

type DeepLModule = typeof import('deepl-node');

/**
 * Translation with the official `deepl-node` client. Transient failures (429, 5xx, connection
 * errors) are retried by deepl-node itself; everything it finally reports is turned into an
 * `APICallError` with a hint (456 quota exceeded, 403 bad key, unreachable server).
 */
export class DeepLTranslator implements InstructionTranslator {
  readonly name = 'deepl';
  private client: Promise<{ deepl: DeepLModule; translator: InstanceType<DeepLModule['Translator']> }> | undefined;

  constructor(private readonly options: DeepLTranslatorOptions) {
    if (!options.authKey || options.authKey.trim() === '') {
      throw new Prompt2ModelError({ message: 'DeepL needs an auth key.', hint: 'Set DEEPL_AUTH_KEY, or leave translation off.' });
    }
  }

  private getClient(): Promise<{ deepl: DeepLModule; translator: InstanceType<DeepLModule['Translator']> }> {
    // deepl-node (and axios under it) loads only when a translation is actually needed.
    this.client ??= import('deepl-node').then((module) => {
      const deepl = (module.Translator ? module : (module as unknown as { default: DeepLModule }).default) as DeepLModule;
      const translator = new deepl.Translator(this.options.authKey, {
        ...(this.options.serverUrl ? { serverUrl: this.options.serverUrl.replace(/\/+$/, '') } : {}),
        maxRetries: this.options.maxRetries ?? 3,
        minTimeout: this.options.timeoutMs ?? 10_000,
        sendPlatformInfo: false,
        appInfo: { appName: 'prompt2model', appVersion: '0.1.0' },
      });
      return { deepl, translator };
    });
    return this.client;
  }

  async translate(text: string, request: TranslateRequest): Promise<TranslateResult> {
    const { deepl, translator: client } = await this.getClient();
    const source = request.sourceLanguage && DEEPL_SOURCE_LANGUAGES.has(request.sourceLanguage) ? request.sourceLanguage : null;
    try {
      const result = await client.translateText(
        text,
        source as Parameters<typeof client.translateText>[1],
        deeplTarget(request.targetLanguage) as Parameters<typeof client.translateText>[2],
      );
      return {
        text: result.text,
        detectedSourceLanguage: result.detectedSourceLang?.toLowerCase().split('-')[0],
        ...(result.billedCharacters !== undefined ? { billedCharacters: result.billedCharacters } : {}),
      };
    } catch (error) {
      throw toApiCallError(error, deepl, this.options.serverUrl);
    }
  }
}

/** deepl-node's error classes, by the name we switch on (their `name` property is always `Error`). */
function deeplErrorKind(error: Error, deepl: DeepLModule): string {
  if (error instanceof deepl.QuotaExceededError) return 'QuotaExceededError';
  if (error instanceof deepl.AuthorizationError) return 'AuthorizationError';
  if (error instanceof deepl.TooManyRequestsError) return 'TooManyRequestsError';
  if (error instanceof deepl.ConnectionError) return 'ConnectionError';
  return error.name;
}

function toApiCallError(error: unknown, deepl: DeepLModule, serverUrl: string | undefined): Error {
  if (!(error instanceof Error)) return new APICallError({ message: `DeepL translation failed: ${String(error)}`, cause: error });
  const message = `DeepL translation failed: ${error.message}`;
  const url = serverUrl ? `${serverUrl.replace(/\/+$/, '')}/v2/translate` : undefined;
  switch (deeplErrorKind(error, deepl)) {
    case 'QuotaExceededError':
      return new APICallError({
        message,
        statusCode: 456,
        isRetryable: false,
        url,
        cause: error,
        hint: 'The DeepL character quota for this billing period is used up. Raise the plan or wait for the next period, or parse without translation (unset DEEPL_AUTH_KEY or pass `translate: false`): the instruction then stays in its own language.',
      });
    case 'AuthorizationError':
      return new APICallError({ message, statusCode: 403, isRetryable: false, url, cause: error, hint: 'Check DEEPL_AUTH_KEY (a free-plan key ends in ":fx") and DEEPL_SERVER_URL.' });
    case 'TooManyRequestsError':
      return new APICallError({ message, statusCode: 429, url, cause: error, hint: 'DeepL kept rate limiting after retries; wait a minute and run again.' });
    case 'ConnectionError':
      return new APICallError({ message, url, cause: error, hint: 'Check the network and DEEPL_SERVER_URL.' });
    default:
      return new APICallError({ message, url, isRetryable: false, cause: error, hint: 'Check DEEPL_SERVER_URL and the DeepL service status.' });
  }
}

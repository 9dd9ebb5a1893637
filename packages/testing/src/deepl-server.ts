import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, readRequestBody } from './loopback-http.js';

/** One request the loopback DeepL server received. */
export interface DeepLRecordedRequest {
  method: string;
  path: string;
  /** The key from `Authorization: DeepL-Auth-Key <key>`, when present. */
  authKey: string | undefined;
  contentType: string | undefined;
  /** Parsed parameters (form or JSON body, or the query string of a GET). */
  params: Record<string, string | string[]>;
}

export interface DeepLTranslateCall {
  texts: string[];
  sourceLang: string | undefined;
  targetLang: string;
}

/** A scripted failure: the next `times` requests to `path` (default every path) answer `status`. */
export interface DeepLFault {
  status: number;
  times?: number;
  path?: string;
  /** Retry-After header (seconds) for 429 answers. */
  retryAfterSeconds?: number;
  message?: string;
}

export interface DeepLServerOptions {
  /** Keys the server accepts; others get 403. Default: any non-empty key. */
  authKeys?: string[];
  /**
   * The translation of one text. Default: the text from `translations` when listed, else the text
   * prefixed with `[<TARGET>] `.
   */
  translate?: (text: string, call: DeepLTranslateCall) => string | { text: string; detectedSourceLanguage?: string };
  /** Fixed translations, keyed by source text. */
  translations?: Record<string, string>;
  /** Source language reported when the request names none (auto-detection). Default `JA` for text with kana, else `EN`. */
  detectSourceLanguage?: (text: string) => string;
  /** Characters that may be translated before the server answers 456 Quota Exceeded. Default unlimited. */
  characterLimit?: number;
  /** Characters already used at start (reported by /v2/usage). */
  characterCount?: number;
  /** Scripted failures, consumed in order. */
  faults?: DeepLFault[];
}

export interface DeepLServerStats {
  /** Requests by path, e.g. `{ '/v2/translate': 3 }`. */
  requests: Record<string, number>;
  /** Characters billed so far (including `characterCount`). */
  characterCount: number;
  translateCalls: DeepLTranslateCall[];
  log: DeepLRecordedRequest[];
}

export interface DeepLServer {
  /** Server URL to pass to deepl-node as `serverUrl` (no `/v2`), e.g. `http://127.0.0.1:43817`. */
  url: string;
  stats: DeepLServerStats;
  /** Adds scripted failures at run time. */
  addFaults(...faults: DeepLFault[]): void;
  close(): Promise<void>;
}

const SOURCE_LANGUAGES = ['AR', 'BG', 'CS', 'DA', 'DE', 'EL', 'EN', 'ES', 'ET', 'FI', 'FR', 'HE', 'HU', 'ID', 'IT', 'JA', 'KO', 'LT', 'LV', 'NB', 'NL', 'PL', 'PT', 'RO', 'RU', 'SK', 'SL', 'SV', 'TH', 'TR', 'UK', 'VI', 'ZH'];
const TARGET_LANGUAGES = [...SOURCE_LANGUAGES.filter((code) => code !== 'EN' && code !== 'PT'), 'EN-GB', 'EN-US', 'PT-BR', 'PT-PT'];

function defaultDetect(text: string): string {
  if (/[\u3040-\u30ff]/.test(text)) return 'JA';
  if (/[\uac00-\ud7af]/.test(text)) return 'KO';
  if (/[\u4e00-\u9fff]/.test(text)) return 'ZH';
  if (/[\u0400-\u04ff]/.test(text)) return 'RU';
  return 'EN';
}


function paramsFrom(search: URLSearchParams): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const values = search.getAll(key);
    params[key] = key === 'text' ? values : values[values.length - 1]!;
  }
  return params;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/**
 * A loopback server speaking the DeepL API v2 as deepl-node calls it: `POST /v2/translate` with a
 * form or JSON body, `GET /v2/usage`, `GET /v2/languages`, `DeepL-Auth-Key` authorization, 403 for an
 * unknown key, 456 when the character quota is used up, and scripted faults (429 with Retry-After, 5xx).
 */
export async function startDeepLServer(options: DeepLServerOptions = {}): Promise<DeepLServer> {
  const faults: DeepLFault[] = [...(options.faults ?? [])];
  const stats: DeepLServerStats = { requests: {}, characterCount: options.characterCount ?? 0, translateCalls: [], log: [] };

  const takeFault = (path: string): DeepLFault | undefined => {
    const index = faults.findIndex((fault) => fault.path === undefined || fault.path === path);
    if (index < 0) return undefined;
    const fault = faults[index]!;
    const remaining = (fault.times ?? 1) - 1;
    if (remaining <= 0) faults.splice(index, 1);
    else faults[index] = { ...fault, times: remaining };
    return fault;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    stats.requests[path] = (stats.requests[path] ?? 0) + 1;
    const body = (await readRequestBody(request)).toString('utf8');
    const contentType = request.headers['content-type'];
    let params: Record<string, string | string[]>;
    if (request.method === 'GET') params = paramsFrom(url.searchParams);
    else if (contentType?.includes('application/json')) {
      try {
        const json = JSON.parse(body || '{}') as Record<string, unknown>;
        params = Object.fromEntries(
          Object.entries(json).map(([key, value]) => [key, Array.isArray(value) ? value.map(String) : String(value)]),
        );
      } catch {
        send(response, 400, { message: 'Invalid JSON body' });
        return;
      }
    } else params = paramsFrom(new URLSearchParams(body));
    const authorization = request.headers.authorization;
    const authKey = /^DeepL-Auth-Key (.+)$/.exec(authorization ?? '')?.[1];
    stats.log.push({ method: request.method ?? 'GET', path, authKey, contentType, params });

    if (!authKey || (options.authKeys && !options.authKeys.includes(authKey))) {
      send(response, 403, { message: 'Wrong endpoint or invalid auth key' });
      return;
    }
    const fault = takeFault(path);
    if (fault) {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const message = fault.message ?? (fault.status === 456 ? 'Quota Exceeded' : fault.status === 429 ? 'Too many requests' : 'Internal server error');
      send(response, fault.status, { message }, headers);
      return;
    }

    if (path === '/v2/usage' && request.method === 'GET') {
      send(response, 200, {
        character_count: stats.characterCount,
        character_limit: options.characterLimit ?? 1_000_000_000_000,
      });
      return;
    }
    if (path === '/v2/languages' && request.method === 'GET') {
      const target = params.type === 'target';
      const codes = target ? TARGET_LANGUAGES : SOURCE_LANGUAGES;
      send(response, 200, codes.map((language) => ({ language, name: language, ...(target ? { supports_formality: false } : {}) })));
      return;
    }
    if (path === '/v2/translate' && request.method === 'POST') {
      const texts = params.text === undefined ? [] : Array.isArray(params.text) ? params.text : [params.text];
      const targetLang = typeof params.target_lang === 'string' ? params.target_lang.toUpperCase() : undefined;
      if (texts.length === 0 || !targetLang) {
        send(response, 400, { message: `Parameter '${texts.length === 0 ? 'text' : 'target_lang'}' not specified.` });
        return;
      }
      if (targetLang === 'EN' || targetLang === 'PT' || !TARGET_LANGUAGES.includes(targetLang)) {
        send(response, 400, { message: `Value for 'target_lang' not supported: ${targetLang}` });
        return;
      }
      const sourceLang = typeof params.source_lang === 'string' ? params.source_lang.toUpperCase() : undefined;
      const characters = texts.reduce((sum, text) => sum + [...text].length, 0);
      if (options.characterLimit !== undefined && stats.characterCount + characters > options.characterLimit) {
        send(response, 456, { message: 'Quota Exceeded' });
        return;
      }
      stats.characterCount += characters;
      const call: DeepLTranslateCall = { texts, sourceLang, targetLang };
      stats.translateCalls.push(call);
      const translations = texts.map((text) => {
        const custom = options.translate?.(text, call);
        const translated = typeof custom === 'string' ? { text: custom } : (custom ?? { text: options.translations?.[text] ?? `[${targetLang}] ${text}` });
        return {
          detected_source_language: sourceLang ?? translated.detectedSourceLanguage ?? (options.detectSourceLanguage ?? defaultDetect)(text),
          text: translated.text,
          ...(params.show_billed_characters === '1' || params.show_billed_characters === 'true' ? { billed_characters: [...text].length } : {}),
        };
      });
      send(response, 200, { translations });
      return;
    }
    send(response, 404, { message: 'Not found' });
  };

  const server = await listenOnLoopback(handle, (error, response) => send(response, 500, { message: String(error) }));
  return {
    url: server.origin,
    stats,
    addFaults: (...more) => faults.push(...more),
    close: () => server.close(),
  };
}

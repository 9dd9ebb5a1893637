import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LanguageModelRequest, LanguageModelResponse } from './language-model.js';
import { prompt2modelCacheDir, type SettingsEnvironment } from './settings.js';
import { writeJsonAtomic } from './util/atomic.js';
import { hashValue } from './util/hash.js';

export interface CacheKeyParts {
  provider: string;
  /** The model's endpoint (base URL), when the provider serves many. */
  endpoint?: string;
  modelId: string;
  request: LanguageModelRequest;
  /**
   * Which repeated sample of the same request this is. Self-consistency asks the same prompt
   * several times; each sample is paid for once and cached on its own.
   */
  sampleIndex?: number;
}

/** Key of one LLM call: a hash of provider, model, request (without its abort signal) and sample index. */
export function llmCacheKey(parts: CacheKeyParts): string {
  // How long to wait and how to cancel do not change the answer: not part of the key.
  const { abortSignal: _ignored, firstByteTimeoutMs: _bound, ...request } = parts.request;
  return hashValue({
    v: 1,
    provider: parts.provider,
    ...(parts.endpoint ? { endpoint: parts.endpoint } : {}),
    model: parts.modelId,
    request,
    sample: parts.sampleIndex ?? 0,
  });
}

/**
 * LLM responses on disk, one file per call under `dir/ab/abcdef….json`. Writes are atomic
 * (temporary file + rename), so concurrent writers and a crash mid-write leave either a whole entry
 * or none; an unreadable entry counts as a miss.
 */
export class LLMCallCache {
  constructor(readonly dir: string) {}

  private pathFor(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<LanguageModelResponse | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.pathFor(key), 'utf8')) as { response?: LanguageModelResponse };
      if (!parsed.response || !Array.isArray(parsed.response.choices)) return undefined;
      return parsed.response;
    } catch {
      return undefined;
    }
  }

  async set(key: string, response: LanguageModelResponse): Promise<void> {
    await writeJsonAtomic(this.pathFor(key), { savedAt: new Date().toISOString(), response });
  }
}

/**
 * The default LLM call cache folder: `llm/` in prompt2model's cache folder (settings'
 * `prompt2modelCacheDir`: `P2M_CACHE_DIR`, else `$XDG_CACHE_HOME/prompt2model`, else
 * `~/.cache/prompt2model`), shared by every run folder, so a new `--out` (or a lost manifest)
 * pays for nothing twice.
 */
export function defaultLLMCacheDir(env?: SettingsEnvironment): string {
  return join(env ? prompt2modelCacheDir(env) : prompt2modelCacheDir(), 'llm');
}

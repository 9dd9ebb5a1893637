import { join } from 'node:path';
import { hashValue, prompt2modelCacheDir } from '@prompt2model/core/internal';

/** `$P2M_CACHE_DIR/hub`, else `$XDG_CACHE_HOME/prompt2model/hub`, else `~/.cache/prompt2model/hub`. */
export function defaultHubCacheDir(): string {
  return join(prompt2modelCacheDir(), 'hub');
}

/** The cache folder of one Hub (host and port), so a mirror and huggingface.co never mix. */
export function hubCacheFolder(cacheDir: string, hubUrl: string): string {
  return join(cacheDir, hostKey(hubUrl));
}

function hostKey(hubUrl: string): string {
  try {
    const url = new URL(hubUrl);
    return `${url.hostname}${url.port ? `_${url.port}` : ''}`;
  } catch {
    return hashValue(hubUrl).slice(0, 16);
  }
}

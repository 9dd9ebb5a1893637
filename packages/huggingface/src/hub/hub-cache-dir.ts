import { homedir } from 'node:os';
import { join } from 'node:path';
import { hashValue } from '@prompt2model/core';

/** `$P2M_CACHE_DIR/hub`, else `$XDG_CACHE_HOME/prompt2model/hub`, else `~/.cache/prompt2model/hub`. */
export function defaultHubCacheDir(): string {
  const base = process.env.P2M_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'prompt2model');
  return join(base, 'hub');
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

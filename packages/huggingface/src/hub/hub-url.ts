export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** The Hub base URL without a trailing slash: the option, else `HF_ENDPOINT`, else huggingface.co. */
export function resolveHubUrl(hubUrl?: string): string {
  return (hubUrl ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
}

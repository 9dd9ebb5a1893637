/** The Hub access token: the option, else `HF_TOKEN`; undefined for anonymous access. */
export function resolveHubToken(accessToken?: string): string | undefined {
  const token = accessToken ?? process.env.HF_TOKEN;
  return token ? token : undefined;
}

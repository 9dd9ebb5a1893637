// Patterns of credentials that must never reach logs, errors or artifacts.
const SECRET_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI-style keys
  /\bhf_[A-Za-z0-9]{8,}/g, // Hugging Face tokens
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:fx\b/gi, // DeepL free keys
  /(authorization["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}]+/gi,
  /([?&](?:api[_-]?key|token|access_token|key)=)[^&\s]+/gi,
];

/** Replaces anything that looks like an API key or bearer token with `[REDACTED]`. */
export function redactSecrets(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[REDACTED]');
  }
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string, bearer?: string) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}${bearer ?? ''}[REDACTED]` : '[REDACTED]',
    );
  }
  return out;
}

/**
 * Connection failures that can never succeed as configured (a refused connection, an unknown host,
 * a bad certificate): retrying them only wastes a minute. Every provider (OpenAI, the Hub) asks
 * here, so "unreachable" means the same everywhere and fails at once with exit 2.
 */
const PERMANENT_CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve (DNS lookup failed)',
  EAI_AGAIN: 'the host name could not be resolved (DNS lookup failed)',
  EAI_NONAME: 'the host name does not resolve (DNS lookup failed)',
  ERR_INVALID_URL: 'the URL is not valid',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
};

/** The `code` of the first error in a cause chain that has one (undici nests it: TypeError → cause). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy-eyeballs connects (IPv4 and IPv6) fail with an AggregateError of both attempts.
    const first = (current as { errors?: unknown[] }).errors?.[0];
    current = (current as { cause?: unknown }).cause ?? first;
  }
  return undefined;
}

/** Why the connection can never succeed as configured (with its code), or undefined when a retry may help. */
export function permanentConnectionFailure(error: unknown): { code: string; reason: string } | undefined {
  const code = errorCode(error);
  const reason = code ? PERMANENT_CONNECTION_CODES[code] : undefined;
  return code && reason ? { code, reason } : undefined;
}

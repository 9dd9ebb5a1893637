import { timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { DemoHttpError, isJsonContentType } from './http-response.js';

/** Host names that always mean this machine. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Whether an IP address (v4 or v6, as a string) is a loopback address. */
function isLoopbackAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return address.startsWith('127.');
  if (kind === 6) return address === '::1' || /^::ffff:127\./i.test(address);
  return false;
}

/**
 * Whether a bind address only listens on this machine, decided from what it resolves to: every
 * address of the name must be a loopback address. A name that does not resolve is not loopback.
 */
export async function resolvesToLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return isLoopbackAddress(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((entry) => isLoopbackAddress(entry.address));
  } catch {
    return false;
  }
}

/**
 * The `Host` header values the server answers: the loopback names and the bound address on its
 * port, plus any names given (a LAN name, a reverse proxy's name). Anything else is refused, which
 * stops DNS rebinding: a foreign site whose name resolves to 127.0.0.1 still sends its own name.
 */
export function allowedHostHeaders(bindHost: string, port: number, extra: readonly string[] = []): Set<string> {
  const hosts = new Set<string>();
  const bracket = (host: string) => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
  for (const name of [...LOOPBACK_NAMES, bracket(bindHost), ...extra.map(bracket)]) {
    const lower = name.toLowerCase();
    hosts.add(`${lower}:${port}`);
    // A name given with its own port (a proxy on :443) is allowed as given.
    if (/:\d+$/.test(lower) && !lower.endsWith(']')) hosts.add(lower);
  }
  return hosts;
}

export function checkHost(request: IncomingMessage, allowed: ReadonlySet<string>): void {
  const host = request.headers.host?.toLowerCase();
  if (!host || !allowed.has(host)) {
    throw new DemoHttpError(403, 'host_not_allowed', `Host "${host ?? ''}" is not served here.`);
  }
}

/**
 * Every POST must be JSON and, when a browser sends an Origin, come from this page's own origin:
 * a foreign page cannot submit inputs or flags (CSRF), and since the server sends no CORS headers a
 * cross-origin JSON request never gets past the browser's preflight either.
 */
export function checkPost(request: IncomingMessage): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    const expected = `http://${request.headers.host ?? ''}`.toLowerCase();
    if (origin.toLowerCase() !== expected) {
      throw new DemoHttpError(403, 'origin_not_allowed', `Requests from origin "${origin}" are not accepted.`);
    }
  }
  if (!isJsonContentType(request)) {
    throw new DemoHttpError(415, 'unsupported_media_type', 'POST bodies must be JSON (Content-Type: application/json).');
  }
}

export const TOKEN_COOKIE = 'p2m_demo_token';

/** The token of an `Authorization: Bearer <token>` header (what OpenAI clients send), if any. */
export function bearerToken(request: IncomingMessage): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
}

/** The access token a request carries: `Authorization: Bearer`, the page's cookie, or `?token=`. */
export function requestToken(request: IncomingMessage, url: URL): string | undefined {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return bearer;
  const cookie = request.headers.cookie
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${TOKEN_COOKIE}=`));
  if (cookie) return decodeURIComponent(cookie.slice(TOKEN_COOKIE.length + 1));
  return url.searchParams.get('token') ?? undefined;
}

/** Constant-time comparison, so the token cannot be guessed one character at a time. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface RateLimiterOptions {
  /** Requests a client may send in a burst, and per `perMs` on average (default 30). */
  limit?: number;
  /** The window the limit refills over (default one minute). */
  perMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * A token bucket per client address: each client may send `limit` requests at once, and the
 * bucket refills at `limit` per `perMs`. Past it the request is refused with 429 and a
 * Retry-After saying when the next one is accepted. Full buckets are forgotten, so the table only
 * holds clients seen recently.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly limit: number;
  private readonly perMs: number;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.limit = Math.max(1, options.limit ?? 30);
    this.perMs = Math.max(1, options.perMs ?? 60_000);
    this.now = options.now ?? (() => Date.now());
  }

  /** Takes one request from `client`'s bucket, or throws the 429 it gets. */
  take(client: string, what = 'requests'): void {
    const now = this.now();
    const rate = this.limit / this.perMs;
    if (this.buckets.size > 1024) {
      for (const [key, bucket] of this.buckets) if (bucket.tokens + (now - bucket.at) * rate >= this.limit) this.buckets.delete(key);
    }
    const bucket = this.buckets.get(client) ?? { tokens: this.limit, at: now };
    bucket.tokens = Math.min(this.limit, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(client, bucket);
      const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
      throw new DemoHttpError(429, 'rate_limited', `Too many ${what}: at most ${this.limit} per ${Math.round(this.perMs / 1000)} s. Try again in ${seconds} s.`, {
        'Retry-After': String(seconds),
      });
    }
    bucket.tokens -= 1;
    this.buckets.set(client, bucket);
  }
}

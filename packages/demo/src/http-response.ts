import { isRetryableStatus, Prompt2ModelError } from '@prompt2model/core/internal';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Response helpers of the demo server: every answer carries the security headers, errors are
 * `{error: {code, message}}` JSON, and request bodies are read with a hard size limit.
 */

const marker = 'prompt2model.error.demo-http';
const symbol = Symbol.for(marker);

/** A request the server refuses, with the HTTP status and a stable code the page and API clients read. */
export class DemoHttpError extends Prompt2ModelError {
  readonly [symbol] = true;
  /** Whether the client may send the same request again (429 busy, 503, 504 timeout). */
  readonly isRetryable: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The request field at fault, when one is (OpenAI's `param`). */
    readonly param?: string,
  ) {
    super({ name: 'DemoHttpError', message });
    this.isRetryable = isRetryableStatus(status);
  }

  static override isInstance(error: unknown): error is DemoHttpError {
    return Prompt2ModelError.hasMarker(error, marker);
  }
}

/**
 * A strict Content-Security-Policy: scripts, styles and requests from this origin only, no inline
 * script, no frames. `wasm-unsafe-eval` only where the page compiles onnxruntime-web's WebAssembly
 * (the static export); the served page runs no model code.
 */
export function contentSecurityPolicy(options: { wasm?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'self'${options.wasm ? " 'wasm-unsafe-eval'" : ''}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    ...(options.wasm ? ["worker-src 'self' blob:"] : []),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': contentSecurityPolicy(),
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/** The demo API's error body: `{"error": {"code", "message"}}`. */
export function demoErrorBody(error: DemoHttpError): unknown {
  return { error: { code: error.code, message: error.message } };
}

/** Answers with the error (its body as `render` writes it), or drops a response that has already started. */
export function sendError(response: ServerResponse, error: DemoHttpError, render: (error: DemoHttpError) => unknown = demoErrorBody): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, error.status, render(error), error.headers);
}

/** Whether a request declares a JSON body (`application/json`, any charset). */
export function isJsonContentType(request: IncomingMessage): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;|$)/i.test(type.trim());
}

/**
 * Reads and parses a JSON body of at most `limitBytes`: a larger declared Content-Length is refused
 * before reading, a larger streamed body as soon as it passes the limit (the socket is then closed).
 */
export async function readJsonBody(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  // The rest of an oversized body is never read: the connection closes after the answer.
  const tooLarge = () => new DemoHttpError(413, 'body_too_large', `The request body is larger than ${limitBytes} bytes.`, { Connection: 'close' });
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DemoHttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on 127.0.0.1 at a free port. */
export interface LoopbackHttpServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  port: number;
  /** Drops open connections (keep-alive clients too) and stops listening. */
  close(): Promise<void>;
}

/**
 * The plumbing every loopback protocol server shares: listen on 127.0.0.1 at a free port, turn a
 * handler's unexpected error into an error response (or a dropped connection once headers are
 * out), and close without waiting for idle keep-alive connections.
 */
export async function listenOnLoopback(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  onError: (error: unknown, response: ServerResponse) => void = (error, response) => {
    response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  },
): Promise<LoopbackHttpServer> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else onError(error, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The whole request body. */
export async function readRequestBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * One page of a Hub listing (`/api/models`, `/api/datasets`): `limit` and `cursor` from the query,
 * at most `pageSize` rows, and a `Link: <…>; rel="next"` header while rows remain (the real Hub
 * keeps paging until the listing ends; the client stops at its own limit).
 */
export function hubListingPage<T>(rows: readonly T[], url: URL, baseUrl: string, pageSize: number): { page: T[]; headers: Record<string, string> } {
  const limit = Math.max(1, Number(url.searchParams.get('limit') ?? pageSize));
  const cursor = Number(url.searchParams.get('cursor') ?? 0);
  const size = Math.min(limit, pageSize);
  const headers: Record<string, string> = {};
  if (cursor + size < rows.length) {
    const next = new URL(url.toString());
    next.searchParams.set('cursor', String(cursor + size));
    headers.link = `<${baseUrl}${next.pathname}${next.search}>; rel="next"`;
  }
  return { page: rows.slice(cursor, cursor + size), headers };
}

/**
 * Serves a file's bytes as the Hub's resolve endpoint does: an ETag, `Accept-Ranges`, and a single
 * `Range: bytes=a-b` answered with 206 and `Content-Range` (416 past the end); HEAD gets the headers
 * only. Returns the status sent and the body bytes, for the caller's stats.
 */
export function sendFileBytes(request: IncomingMessage, response: ServerResponse, content: Buffer, contentType: string): { status: number; bytes: number } {
  const common = { etag: `"${createHash('sha1').update(content).digest('hex')}"`, 'content-type': contentType, 'accept-ranges': 'bytes' };
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  if (request.method === 'HEAD') {
    response.writeHead(200, { ...common, 'content-length': String(content.length) });
    response.end();
    return { status: 200, bytes: 0 };
  }
  if (range) {
    const start = Number(range[1]);
    if (start >= content.length) {
      response.writeHead(416, { 'content-range': `bytes */${content.length}` });
      response.end();
      return { status: 416, bytes: 0 };
    }
    const end = Math.min(range[2] ? Number(range[2]) : content.length - 1, content.length - 1);
    const slice = content.subarray(start, end + 1);
    response.writeHead(206, { ...common, 'content-range': `bytes ${start}-${end}/${content.length}`, 'content-length': String(slice.length) });
    response.end(slice);
    return { status: 206, bytes: slice.length };
  }
  response.writeHead(200, { ...common, 'content-length': String(content.length) });
  response.end(content);
  return { status: 200, bytes: content.length };
}

/** `send` and `sendJson` for a loopback Hub server, counting every response by status in `byStatus`. */
export function hubResponder(byStatus: Record<number, number>) {
  const send = (response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void => {
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    response.writeHead(status, headers);
    response.end(body);
  };
  const sendJson = (response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void =>
    send(response, status, JSON.stringify(value), { 'content-type': 'application/json; charset=utf-8', ...headers });
  /** The Hub's answer to a scripted fault: 429 with Retry-After, or a 5xx. */
  const sendFault = (response: ServerResponse, status: number, retryAfterSeconds = 0): void =>
    sendJson(response, status, { error: status === 429 ? 'You are being rate limited' : 'Internal Error' }, status === 429 ? { 'retry-after': String(retryAfterSeconds) } : {});
  return { send, sendJson, sendFault };
}

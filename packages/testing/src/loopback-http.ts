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

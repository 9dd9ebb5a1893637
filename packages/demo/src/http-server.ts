import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Prompt2ModelError, redactSecrets } from '@prompt2model/core/internal';
import { DemoConfigError } from './demo-config-error.js';
import { DemoHttpError } from './http-response.js';

/**
 * The HTTP mechanisms the servers of this package share (the demo page's API and the
 * OpenAI-compatible API): listening with errors in words, the address to print, closing once,
 * requests that go away, and model failures told to clients without secrets or paths.
 */

/** Starts listening on `host:port` (0 picks a free port) and resolves to the port. */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new DemoConfigError({ message: `Port ${port} on ${host} is in use.`, hint: 'Pick another `port` (0 picks any free one).', cause: error })
          : new DemoConfigError({ message: `Cannot listen on ${host}:${port}: ${error.message}`, hint: 'Check `host` and `port`.', cause: error }),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  return (server.address() as AddressInfo).port;
}

/** `http://host:port` to print for a bound address (a wildcard address prints as 127.0.0.1). */
export function baseUrl(host: string, port: number): string {
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${urlHost}:${port}`;
}

/** `close()` (stops listening, aborts `closing`, ends open connections; safe to call twice) and `closed`. */
export function closeOnce(server: Server, closing: AbortController): { close: () => Promise<void>; closed: Promise<void> } {
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closingPromise: Promise<void> | undefined;
  const close = () => {
    closingPromise ??= new Promise<void>((resolve) => {
      closing.abort();
      server.close(() => {
        resolveClosed();
        resolve();
      });
      server.closeAllConnections();
    });
    return closingPromise;
  };
  return { close, closed };
}

export function methodNotAllowed(allow: string): DemoHttpError {
  return new DemoHttpError(405, 'method_not_allowed', `Use ${allow} here.`, { Allow: allow });
}

/** The answer an error gets: its own status when it is an HTTP error, else 500 without details. */
export function asHttpError(error: unknown): DemoHttpError {
  if (DemoHttpError.isInstance(error)) return error;
  return new DemoHttpError(500, 'internal_error', 'The server failed on this request.');
}

/** Aborts when the client disconnects before its answer is sent, or when the server closes. */
export function requestGone(response: ServerResponse, closing: AbortSignal): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return AbortSignal.any([controller.signal, closing]);
}

/** A message with absolute file paths (POSIX or Windows) replaced by their last part, for clients. */
export function withoutPaths(text: string): string {
  return text.replace(/(?:[A-Za-z]:)?(?:[\\/][^\\/\s'"`:,;()]+){2,}/g, (path) => `…/${path.split(/[\\/]/).pop()}`);
}

/**
 * A model call's failure as the client sees it (502 `model_error`): the full message, secrets
 * redacted, goes to the server's log; the client never learns the server's paths.
 */
export function modelFailure(error: unknown, log: (level: 'warn', message: string) => void): DemoHttpError {
  if (DemoHttpError.isInstance(error)) return error;
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  const hint = Prompt2ModelError.isInstance(error) && error.hint ? ` ${redactSecrets(error.hint)}` : '';
  log('warn', `model error: ${message}${hint}`);
  return new DemoHttpError(502, 'model_error', `The model failed: ${withoutPaths(message)}${withoutPaths(hint)}`);
}

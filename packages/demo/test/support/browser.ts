import { existsSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { contentTypeOf, resolveStaticFile } from '../../src/static-files.js';

/** Debian's chromium (installed by .ci/run); P2M_CHROMIUM points elsewhere. Never downloaded. */
export function chromiumPath(): string | undefined {
  return [process.env.P2M_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path): path is string => Boolean(path && existsSync(path)));
}

let warned = false;

/** Launches headless Chromium, or says loudly (once) why the browser tests are skipped. */
export async function launchChromium(): Promise<Browser | undefined> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    if (!warned) console.warn('SKIPPING BROWSER TESTS: no chromium at /usr/bin/chromium (apt-get install -y chromium, or set P2M_CHROMIUM)');
    warned = true;
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/** A plain static file server over a folder (what a static host does), for the exported site. */
export async function serveFolder(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://static.invalid');
    void resolveStaticFile(root, url.pathname).then((file) => {
      if (!file) {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'Content-Type': contentTypeOf(file) });
      createReadStream(file).pipe(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import { realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's own files (index.html, app.js, style.css), shipped in the package's `page/` folder. */
export const PAGE_DIR = fileURLToPath(new URL('../page/', import.meta.url));

/**
 * Content types by extension. `.mjs` must be JavaScript and `.wasm` `application/wasm`: browsers
 * refuse module scripts served as anything else, and WebAssembly streaming compilation needs the
 * exact wasm type.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file a URL path names inside `root`, or undefined when it names none or would leave the
 * root: encoded dots and slashes (`%2e%2e%2f`), backslashes, NUL bytes, absolute paths and
 * symbolic links out of the folder are all refused.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.' || segment.startsWith('.'))) return undefined;
  const relativePath = segments.length === 0 ? 'index.html' : segments.join('/');
  const rootPath = await realpath(root);
  const candidate = resolve(rootPath, relativePath);
  if (!isInside(rootPath, candidate)) return undefined;
  try {
    const real = await realpath(candidate);
    if (!isInside(rootPath, real)) return undefined;
    const info = await stat(real);
    return info.isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

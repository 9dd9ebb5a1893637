// Packs the workspace packages and installs the tarballs into a fresh project, as a user's
// `npm install` would lay them out: the scoped packages are unpublished, so every install maps their
// names to the tarballs (dependencies and overrides), and the npm registry serves everything else.
// Used by `npm run lint:packages` (.ci/lint-packages.ts) and the install-size benchmark.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repositoryRoot = resolve(import.meta.dirname, '..');

export interface PackedWorkspace {
  /** The temporary folder holding the tarballs and the installs. */
  dir: string;
  tarballs: Array<{ name: string; path: string; packedBytes: number; unpackedBytes: number }>;
}

export const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `npm pack` of every workspace package (their dist must be built). */
export function packWorkspace(): PackedWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'p2m-packed-'));
  const packed = JSON.parse(npm(['pack', '--workspaces', '--json', '--pack-destination', dir], repositoryRoot)) as Array<{ name: string; filename: string; size: number; unpackedSize: number }>;
  return { dir, tarballs: packed.map((entry) => ({ name: entry.name, path: join(dir, entry.filename), packedBytes: entry.size, unpackedBytes: entry.unpackedSize })) };
}

/** Installs `direct` (workspace package names or registry packages) into `<packed.dir>/<label>`; returns that folder. */
export function installPacked(packed: PackedWorkspace, label: string, direct: string[]): string {
  const dir = join(packed.dir, label.replace(/\W+/g, '-'));
  mkdirSync(dir, { recursive: true });
  const tarball = new Map(packed.tarballs.map((entry) => [entry.name, `file:${entry.path}`]));
  const versionOf = (name: string) => (JSON.parse(readFileSync(join(repositoryRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  const dependencies = Object.fromEntries(direct.map((name) => [name, tarball.get(name) ?? `^${versionOf(name)}`]));
  const overrides = Object.fromEntries([...tarball].filter(([name]) => name.startsWith('@prompt2model/')));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'packed-install', private: true, dependencies, overrides }, null, 2));
  // Install scripts stay off, as npm 11 leaves them unless a user approves them.
  npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return dir;
}

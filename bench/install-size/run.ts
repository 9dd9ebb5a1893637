// Installed size of the published packages, as a user's `npm install` would lay them out.
// Packs every workspace package (`npm pack`, after `npm run build`), then installs the tarballs into
// fresh temporary projects, with the npm registry for third-party dependencies, and prints the size of
// each project's node_modules (bytes of the files, as `du --apparent-size` counts them):
//   umbrella            `npm install prompt2model`
//   umbrella + runtime  `npm install prompt2model @huggingface/transformers` (models run in Node)
//   data-only packages  the scoped packages that never run a model (core, bm25, openai, huggingface,
//                       prompt-parser, dataset-retriever, dataset-generator, model-retriever, trainer)
// Install scripts are skipped (`--ignore-scripts`), as npm 11 does unless a user approves them.
// Usage: node --import tsx bench/install-size/run.ts [--keep]
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'p2m-install-size-'));
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// One tarball per workspace package; the scoped ones are unpublished, so every install maps their
// names to these tarballs (dependencies and overrides), and the registry serves everything else.
const packed = JSON.parse(npm(['pack', '--workspaces', '--json', '--pack-destination', work], root)) as Array<{ name: string; filename: string; size: number; unpackedSize: number }>;
const tarball = Object.fromEntries(packed.map((entry) => [entry.name, `file:${join(work, entry.filename)}`]));
const versionOf = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** Bytes of every regular file under `dir` (symlinks not followed). */
function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/** The largest installed packages, to say where the bytes are. */
function largest(modules: string, count: number): string[] {
  const sizes: Array<[string, number]> = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((name) => `${entry}/${name}`) : [entry];
    for (const name of names) sizes.push([name, sizeOf(join(modules, name))]);
  }
  return sizes.sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, bytes]) => `${name} ${(bytes / 1e6).toFixed(1)} MB`);
}

function install(label: string, direct: string[]) {
  const dir = join(work, label.replace(/\W+/g, '-'));
  const scoped = Object.fromEntries(Object.entries(tarball).filter(([name]) => name.startsWith('@prompt2model/')));
  const dependencies = Object.fromEntries(direct.map((name) => [name, tarball[name] ?? `^${versionOf(name)}`]));
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'install-size', private: true, dependencies, overrides: scoped }, null, 2));
  const started = Date.now();
  npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  const modules = join(dir, 'node_modules');
  const packages = readdirSync(modules).flatMap((entry) => (entry.startsWith('@') ? readdirSync(join(modules, entry)) : entry.startsWith('.') ? [] : [entry])).length;
  return { install: label, direct, megabytes: +(sizeOf(modules) / 1e6).toFixed(1), topLevelPackages: packages, seconds: +((Date.now() - started) / 1000).toFixed(1), largest: largest(modules, 5) };
}

const dataOnly = ['@prompt2model/core', '@prompt2model/bm25', '@prompt2model/openai', '@prompt2model/huggingface', '@prompt2model/prompt-parser', '@prompt2model/dataset-retriever', '@prompt2model/dataset-generator', '@prompt2model/model-retriever', '@prompt2model/trainer'];
try {
  const results = [
    install('umbrella', ['prompt2model']),
    install('umbrella + transformers', ['prompt2model', '@huggingface/transformers']),
    install('data-only packages', dataOnly),
  ];
  for (const row of results) console.log(`${row.install.padEnd(26)} ${String(row.megabytes).padStart(7)} MB  ${row.topLevelPackages} packages  (${row.seconds} s; largest: ${row.largest.join(', ')})`);
  console.log(JSON.stringify({ tarballs: packed.map((entry) => ({ name: entry.name, packedBytes: entry.size, unpackedBytes: entry.unpackedSize })), results }, null, 2));
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

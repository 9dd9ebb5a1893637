// Installed size of the published packages, as a user's `npm install` would lay them out.
// Packs every workspace package (`npm pack`, after `npm run build`), installs the tarballs into fresh
// temporary projects (the npm registry serves third-party dependencies; .ci/packed-install.ts) and
// prints the size of each project's node_modules (bytes of the files, as `du --apparent-size`):
//   umbrella            `npm install prompt2model`
//   umbrella + runtime  `npm install prompt2model @huggingface/transformers` (models run in Node)
//   data-only packages  the scoped packages that never run a model (core, bm25, openai, huggingface,
//                       prompt-parser, dataset-retriever, dataset-generator, model-retriever, trainer)
//   ai-sdk              `npm install @prompt2model/ai-sdk ai` (the student in an AI SDK app)
//   ai-sdk + runtime    the same with @huggingface/transformers (what running the student needs)
// Install scripts are skipped (`--ignore-scripts`), as npm 11 does unless a user approves them.
// Usage: node --import tsx bench/install-size/run.ts [--keep]
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installPacked, packWorkspace } from '../../.ci/packed-install.ts';

const keep = process.argv.includes('--keep');
const packed = packWorkspace();

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

/** The installed packages, largest first, to say where the bytes are. */
function packagesBySize(modules: string): Array<[string, number]> {
  const sizes: Array<[string, number]> = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((name) => `${entry}/${name}`) : [entry];
    for (const name of names) sizes.push([name, sizeOf(join(modules, name))]);
  }
  return sizes.sort((a, b) => b[1] - a[1]);
}

function install(label: string, direct: string[]) {
  const started = Date.now();
  const modules = join(installPacked(packed, label, direct), 'node_modules');
  const packages = packagesBySize(modules);
  return {
    install: label,
    direct,
    megabytes: +(sizeOf(modules) / 1e6).toFixed(1),
    topLevelPackages: packages.length,
    seconds: +((Date.now() - started) / 1000).toFixed(1),
    largest: packages.slice(0, 5).map(([name, bytes]) => `${name} ${(bytes / 1e6).toFixed(1)} MB`),
  };
}

const dataOnly = ['@prompt2model/core', '@prompt2model/bm25', '@prompt2model/openai', '@prompt2model/huggingface', '@prompt2model/prompt-parser', '@prompt2model/dataset-retriever', '@prompt2model/dataset-generator', '@prompt2model/model-retriever', '@prompt2model/trainer'];
try {
  const results = [
    install('umbrella', ['prompt2model']),
    install('umbrella + transformers', ['prompt2model', '@huggingface/transformers']),
    install('data-only packages', dataOnly),
    install('ai-sdk + ai', ['@prompt2model/ai-sdk', 'ai']),
    install('ai-sdk + ai + transformers', ['@prompt2model/ai-sdk', 'ai', '@huggingface/transformers']),
  ];
  for (const row of results) console.log(`${row.install.padEnd(26)} ${String(row.megabytes).padStart(7)} MB  ${row.topLevelPackages} packages  (${row.seconds} s; largest: ${row.largest.join(', ')})`);
  console.log(JSON.stringify({ tarballs: packed.tarballs.map(({ name, packedBytes, unpackedBytes }) => ({ name, packedBytes, unpackedBytes })), results }, null, 2));
} finally {
  if (keep) console.log(`kept ${packed.dir}`);
  else rmSync(packed.dir, { recursive: true, force: true });
}

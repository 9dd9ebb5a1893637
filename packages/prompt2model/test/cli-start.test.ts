import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI must start fast (`prompt2model --help` < 150 ms; figures in docs/benchmarks.md from
// bench/core-import). That holds while the modules loaded at start-up import only commander and
// core's light entries at top level; stage packages are imported inside actions. This test keeps
// that structure; the bench measures the time.
const src = resolve(import.meta.dirname, '../src');
const startModules = [
  'program.ts',
  'runtime.ts',
  'progress.ts',
  'registry/training-backends.ts',
  ...readdirSync(join(src, 'commands')).map((file) => `commands/${file}`),
  ...readdirSync(join(src, 'flags')).map((file) => `flags/${file}`),
];
const allowed = new Set(['commander', '@prompt2model/core/errors', '@prompt2model/core/settings', '@prompt2model/core/registry', '@prompt2model/core/events']);

function valueImports(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  return [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]!);
}

describe('CLI start-up structure', () => {
  it.each(startModules)('%s imports no stage package at top level', (file) => {
    const heavy = valueImports(file).filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:') && !allowed.has(specifier));
    expect(heavy).toEqual([]);
  });

  it('no verb imports another verb', () => {
    for (const file of readdirSync(join(src, 'commands')).filter((name) => name !== 'index.ts')) {
      const local = valueImports(`commands/${file}`).filter((specifier) => specifier.startsWith('./'));
      expect({ file, local }).toEqual({ file, local: [] });
    }
  });

  it('no verb reads another package\'s private run-folder files', () => {
    for (const file of readdirSync(join(src, 'commands'))) {
      const text = readFileSync(join(src, 'commands', file), 'utf8');
      expect({ file, reads: /training\/handle\.json/.test(text) }).toEqual({ file, reads: false });
    }
  });
});

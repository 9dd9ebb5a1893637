import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Keeps docs/architecture.md's dependency table true against the package.json files, and the
// layering the table states: no cycles, core depends on no package of ours, providers on core only,
// no stage package on a vendor SDK (`openai`) or on process.env.
const root = resolve(import.meta.dirname, '../../..');
const packagesDir = join(root, 'packages');
const short = (name: string) => name.replace(/^@prompt2model\//, '');

interface Row {
  name: string;
  layer: string;
  internal: string[];
  external: string[];
}

function tableRows(): Row[] {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const block = /<!-- dependency-table:start -->([\s\S]*?)<!-- dependency-table:end -->/.exec(doc)?.[1];
  if (!block) throw new Error('docs/architecture.md has no dependency table between the dependency-table markers');
  const list = (cell: string) => (cell.trim() === '—' ? [] : cell.split(',').map((item) => item.trim()).filter(Boolean));
  return block
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [name, layer, internal, external] = line.split('|').slice(1, -1).map((cell) => cell.trim());
      return { name: name!.replace(/`/g, ''), layer: layer!, internal: list(internal!).sort(), external: list(external!).sort() };
    });
}

function manifests(): Map<string, { dependencies: Record<string, string>; dir: string }> {
  const found = new Map<string, { dependencies: Record<string, string>; dir: string }>();
  for (const dir of readdirSync(packagesDir)) {
    const path = join(packagesDir, dir, 'package.json');
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name: string; dependencies?: Record<string, string> };
    found.set(manifest.name, { dependencies: manifest.dependencies ?? {}, dir: join(packagesDir, dir) });
  }
  return found;
}

const isInternal = (name: string) => name === 'prompt2model' || name.startsWith('@prompt2model/');

describe('docs/architecture.md dependency table', () => {
  const rows = tableRows();
  const packages = manifests();

  it('lists every package, and only those', () => {
    expect(rows.map((row) => row.name).sort()).toEqual([...packages.keys()].sort());
  });

  it.each(tableRows().map((row) => [row.name, row] as const))('%s: the row matches its package.json dependencies', (name, row) => {
    const dependencies = Object.keys(packages.get(name)?.dependencies ?? {});
    const actual = {
      internal: dependencies.filter(isInternal).map(short).sort(),
      external: dependencies.filter((dep) => !isInternal(dep)).sort(),
    };
    expect({ package: name, internal: row.internal, external: row.external }).toEqual({ package: name, ...actual });
  });

  it('keeps the layering: core on nothing of ours, providers on core only, no cycles', () => {
    const layerOf = new Map(rows.map((row) => [short(row.name), row.layer]));
    for (const row of rows) {
      if (row.layer === 'spec') expect({ package: row.name, internal: row.internal }).toEqual({ package: row.name, internal: [] });
      // A library (shared code with no vendor SDK, e.g. bm25) sits beside the providers: on core only.
      if (row.layer === 'provider' || row.layer === 'testing' || row.layer === 'library') expect({ package: row.name, internal: row.internal }).toEqual({ package: row.name, internal: ['core'] });
      if (row.layer === 'stage') {
        const allowed = row.internal.every((dep) => ['spec', 'provider', 'library'].includes(layerOf.get(dep) ?? ''));
        expect({ package: row.name, dependsOnlyOnCoreAndProviders: allowed }).toEqual({ package: row.name, dependsOnlyOnCoreAndProviders: true });
      }
      if (row.layer === 'app') {
        const allowed = row.internal.every((dep) => ['spec', 'provider', 'stage'].includes(layerOf.get(dep) ?? ''));
        expect({ package: row.name, dependsOnlyOnCoreProvidersAndStages: allowed }).toEqual({ package: row.name, dependsOnlyOnCoreProvidersAndStages: true });
      }
    }
    // Depth-first search over the internal edges.
    const edges = new Map(rows.map((row) => [short(row.name), row.internal]));
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') throw new Error(`dependency cycle: ${[...path, node].join(' → ')}`);
      state.set(node, 'visiting');
      for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of edges.keys()) visit(node, []);
  });

  it('no stage package depends on the openai SDK', () => {
    const stages = rows.filter((row) => row.layer === 'stage' || row.layer === 'app');
    expect(stages.length).toBeGreaterThan(0);
    for (const row of stages) {
      const dependencies = Object.keys(packages.get(row.name)?.dependencies ?? {});
      expect({ package: row.name, openai: dependencies.includes('openai') }).toEqual({ package: row.name, openai: false });
    }
  });

  it('no stage or provider package reads process.env (settings come from core)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? files(path) : /\.ts$/.test(entry) && !/\.test\.ts$/.test(entry) ? [path] : [];
      });
    for (const row of rows.filter((r) => r.layer === 'stage' || r.layer === 'app' || r.layer === 'provider')) {
      const src = join(packages.get(row.name)!.dir, 'src');
      const readers = files(src).filter((file) => /process\.env/.test(readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
      expect({ package: row.name, readers }).toEqual({ package: row.name, readers: [] });
    }
  });
});

describe('a fresh clone runs every test with nothing beside it', () => {
  // Test data lives in the repository (packages/testing/fixtures, read through
  // @prompt2model/testing/fixtures); ../shared/data is for optional benchmarks only.
  const testFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      if (entry === 'node_modules' || entry === 'dist' || entry === 'fixtures') return [];
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return testFiles(path);
      return /\.test\.ts$/.test(entry) || /[\\/]test[\\/]support[\\/]/.test(path) ? [path] : [];
    });

  it('no test file reads ../shared (shared/data) outside the repository', () => {
    const files = testFiles(packagesDir).filter((file) => file !== import.meta.filename);
    expect(files.length).toBeGreaterThan(50);
    const readers = files.filter((file) => /shared\/data|\.\.\/shared\b|['"`]shared['"`]/.test(readFileSync(file, 'utf8'))).map((file) => file.slice(root.length + 1));
    expect(readers).toEqual([]);
  });

  it('the fixtures the tests read are in the repository, each with its origin and licence', () => {
    const fixtures = join(packagesDir, 'testing/fixtures');
    const readme = readFileSync(join(fixtures, 'README.md'), 'utf8');
    const data = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? data(path) : /^(README|LICENSE)/.test(entry) ? [] : [path.slice(fixtures.length + 1)];
      });
    // Every data file has a row naming it, its folder (`dir/`) or its siblings (`dir/{a,b}.csv.gz`).
    const named = [...readme.matchAll(/`([^`\s]+)`/g)].flatMap(([, path]) => {
      const braces = /^(.*)\{([^}]+)\}(.*)$/.exec(path!);
      return braces ? braces[2]!.split(',').map((part) => `${braces[1]}${part}${braces[3]}`) : [path!];
    });
    const undocumented = data(fixtures).filter((file) => !named.some((path) => path === file || (path.endsWith('/') && file.startsWith(path))));
    expect(undocumented).toEqual([]);
  });
});

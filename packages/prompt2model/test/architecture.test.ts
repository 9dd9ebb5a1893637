import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { JOB_FILES, JOB_OUTPUT_FILES, RUN_FILES, TRAINING_FILES } from '@prompt2model/core/internal';
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

  it('docs/architecture.md lists every run-folder file of the layout table', () => {
    const docs = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const section = docs.slice(docs.indexOf('<!-- run-folder-layout:start -->'), docs.indexOf('<!-- run-folder-layout:end -->'));
    expect(section.length).toBeGreaterThan(0);
    for (const name of Object.values(RUN_FILES)) expect(section, name).toContain(`\`${name}`);
  });

  it('no package outside core spells a run-folder file name (core\'s RUN_FILES, TRAINING_FILES, JOB_FILES own them)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        return statSync(path).isDirectory() ? files(path) : /\.ts$/.test(entry) && !/\.test\.ts$/.test(entry) ? [path] : [];
      });
    const names = [...new Set([RUN_FILES, TRAINING_FILES, JOB_FILES, JOB_OUTPUT_FILES].flatMap((table) => Object.values(table) as string[]))].filter((name) => name.includes('.'));
    expect(names).toContain('trained-model.json');
    // A name as a whole string literal or the last segment of a path in one: 'splits.json', `${dir}/job.json`.
    const escape = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const literal = new RegExp(`['"\`/](${names.map(escape).join('|')})['"\`]`);
    for (const row of rows.filter((r) => r.name !== '@prompt2model/core')) {
      const src = join(packages.get(row.name)!.dir, 'src');
      const spellers = files(src).filter((file) => literal.test(readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
      expect({ package: row.name, spellers }).toEqual({ package: row.name, spellers: [] });
    }
  });

  // Settings are resolved once, where a provider (or a resolver of plain options) is created,
  // and passed down: model classes and stages receive values or an env object. These are the only
  // files of provider and stage packages that may call core's settings readers; a new reader is a
  // new entry here, with its reason, not a `loadSetting` call inside a model class.
  const SETTINGS_READERS: Record<string, string> = {
    'openai/src/openai-provider.ts': 'createOpenAI: OPENAI_BASE_URL, OPENAI_API_KEY (lazily) for every model it creates',
    'huggingface/src/huggingface-provider.ts': 'createHuggingFace: HF_TOKEN (lazily), HF_ENDPOINT_URL',
    'huggingface/src/hub/hub-url.ts': 'Hub functions: HF_ENDPOINT default of the hubUrl option',
    'huggingface/src/hub/hub-token.ts': 'Hub functions: HF_TOKEN default of the accessToken option',
    'huggingface/src/hub/hub-dataset-options.ts': 'dataset functions: HF_DATASET_VIEWER_URL default',
    'huggingface/src/hub/hub-cache-dir.ts': 'Hub cache folder default',
    'huggingface/src/hub/push-model.ts': 'pushModel: HF_TOKEN required, from the option or the env object',
    'huggingface/src/hub/repo-files.ts': 'uploadRepoFiles: the secret values (from the env object) no uploaded file may hold',
    'prompt-parser/src/deepl-provider.ts': 'createDeepLTranslator: DEEPL_AUTH_KEY, DEEPL_SERVER_URL',
    'trainer/src/python-environment.ts': 'P2M_PYTHON, P2M_PREDICT_COMMAND, the managed Python environment folder',
    'dataset-retriever/src/dataset-index.ts': 'default cache folder of a built dataset index',
  };
  const SETTINGS_READER = /\b(loadSetting|loadApiKey|processEnvironment|prompt2modelCacheDir|secretSettingValues)\b/;
  const stripComments = (text: string) => text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');

  it('provider and stage packages read settings only in their factories (no model class reads the environment)', () => {
    const readers: string[] = [];
    for (const row of rows.filter((r) => r.layer === 'stage' || r.layer === 'provider' || r.layer === 'library')) {
      const dir = packages.get(row.name)!.dir;
      for (const file of sourceFiles(join(dir, 'src'))) {
        if (SETTINGS_READER.test(stripComments(readFileSync(file, 'utf8')))) readers.push(file.slice(packagesDir.length + 1));
      }
    }
    expect(readers.sort()).toEqual(Object.keys(SETTINGS_READERS).sort());
  });

  it('the factories hand models resolved values: no model class file calls a settings reader', () => {
    for (const file of Object.keys(SETTINGS_READERS)) {
      const text = stripComments(readFileSync(join(packagesDir, file), 'utf8'));
      // A LanguageModel, a training backend or a translator is created by the factory, never here.
      expect({ file, declaresModelClass: /class \w+ implements (LanguageModel|TrainerBackend|InstructionTranslator)\b/.test(text) }).toEqual({ file, declaresModelClass: false });
    }
  });

  it('only core\'s settings module touches process.env, in every package', () => {
    const readers = rows.flatMap((row) =>
      sourceFiles(join(packages.get(row.name)!.dir, 'src'))
        .filter((file) => /process\.env\b/.test(stripComments(readFileSync(file, 'utf8'))))
        .map((file) => file.slice(packagesDir.length + 1)),
    );
    // The testing package's servers and mocks are not runtime settings readers.
    expect(readers.filter((file) => !file.startsWith('testing/')).sort()).toEqual(['core/src/settings.ts']);
  });
});

describe('errors', () => {
  const rows = tableRows();
  const packages = manifests();
  const all = rows.flatMap((row) => sourceFiles(join(packages.get(row.name)!.dir, 'src')));
  const text = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '');
  const rel = (file: string) => file.slice(packagesDir.length + 1);

  it('every named error is a class with a Symbol.for marker and isInstance, one per file', () => {
    const problems: string[] = [];
    for (const file of all) {
      const source = text(file);
      if (/new Prompt2ModelError\(\{\s*name:/.test(source)) problems.push(`${rel(file)}: Prompt2ModelError with a string name; make it a class`);
      if (/new (RangeError|TypeError)\(/.test(source)) problems.push(`${rel(file)}: RangeError/TypeError for an invalid option; throw InvalidArgumentError`);
      const classes = [...source.matchAll(/class (\w+) extends (\w+Error)\b/g)];
      for (const [, name, base] of classes) {
        if (base === 'Error' && name !== 'Prompt2ModelError') problems.push(`${rel(file)}: ${name} extends Error, not Prompt2ModelError`);
        if (!/Symbol\.for\('prompt2model\.error[.\w-]*'\)|Symbol\.for\(marker\)/.test(source) || !new RegExp(`static (override )?isInstance\\(error: unknown\\): error is ${name}\\b`).test(source)) {
          problems.push(`${rel(file)}: ${name} lacks its Symbol.for marker or isInstance`);
        }
      }
      if (classes.length > 1) problems.push(`${rel(file)}: ${classes.length} error classes in one file`);
    }
    expect(problems).toEqual([]);
  });

  it('library messages and hints name options, never CLI flags (the CLI maps them)', () => {
    const flags: string[] = [];
    for (const row of rows.filter((r) => r.layer !== 'umbrella' && r.layer !== 'testing')) {
      for (const file of sourceFiles(join(packages.get(row.name)!.dir, 'src'))) {
        text(file)
          .split('\n')
          .forEach((line, index) => {
            const rest = line
              .replace(/(['"])--[a-z][\w-]*\1/g, '') // argv of a worker process
              .replace(/prompt2model [a-z]+[^`'"]*/g, '') // a command to run, e.g. `prompt2model export --model DIR`
              .replace(/python -m p2m_worker[^`'"]*/g, '') // the worker's own command line
              .replace(/`(?:sky|torchrun|python3 -m pip) [^`]*`/g, ''); // another tool's command line (SkyPilot, torchrun, pip)
            if (/--[a-z]/.test(rest)) flags.push(`${rel(file)}:${index + 1}: ${line.trim().slice(0, 120)}`);
          });
      }
    }
    expect(flags).toEqual([]);
  });
});

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.ts$/.test(entry) && !/\.test\.ts$/.test(entry) ? [path] : [];
  });
}

describe('a fresh clone runs every test with nothing beside it', () => {
  // Test data lives in the repository (packages/testing/fixtures, read through
  // @prompt2model/testing/fixtures); the data folder beside the clone is for optional benchmarks
  // only. This file holds the guard's pattern, so it is the one file the guard leaves out.
  const testFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      if (entry === 'node_modules' || entry === 'dist' || entry === 'fixtures') return [];
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return testFiles(path);
      return /\.test\.ts$/.test(entry) || /[\\/]test[\\/]support[\\/]/.test(path) ? [path] : [];
    });

  it('one test layout: every package keeps its tests in test/, none in src/', () => {
    const inSrc = readdirSync(packagesDir).flatMap((pkg) => sourceTestFiles(join(packagesDir, pkg, 'src'))).map((file) => file.slice(root.length + 1));
    expect(inSrc).toEqual([]);
  });

  it('no test file reads the shared data folder outside the repository', () => {
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

function sourceTestFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sourceTestFiles(path) : /\.test\.ts$/.test(entry) ? [path] : [];
  });
}

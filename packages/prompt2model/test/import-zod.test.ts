import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelIndex } from '@prompt2model/model-retriever';
import { describe, expect, it } from 'vitest';

// zod is about 60 ms of CPU to load, most of what importing the library would cost, and importing
// validates nothing: the schemas are built, and zod loaded, on first use. This runs the built
// packages in a fresh process, as a user's program imports them. (zod sets
// globalThis.__zod_globalConfig when it loads.)
const packageDir = resolve(import.meta.dirname, '..');
const entries = [
  'prompt2model',
  '@prompt2model/core',
  '@prompt2model/core/internal',
  '@prompt2model/prompt-parser',
  '@prompt2model/dataset-generator',
  '@prompt2model/dataset-retriever',
  '@prompt2model/model-retriever',
  '@prompt2model/bm25',
  '@prompt2model/trainer',
  '@prompt2model/evaluator',
  '@prompt2model/demo',
  '@prompt2model/openai',
  '@prompt2model/huggingface',
  '@prompt2model/huggingface/hub',
  '@prompt2model/ai-sdk',
  '@prompt2model/testing',
];

function runModule(script: string): Record<string, unknown> {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe('importing the library does not load zod', () => {
  it('leaves zod unloaded after importing every entry, and loads it (the one instance) on the first validation', () => {
    const result = runModule(`
      const loaded = () => globalThis.__zod_globalConfig !== undefined;
      const entries = ${JSON.stringify(entries)};
      const loadedBy = [];
      for (const entry of entries) {
        await import(entry);
        if (loaded() && loadedBy.length === 0) loadedBy.push(entry);
      }
      const { ExampleSchema, PromptSpecSchema } = await import('prompt2model');
      const parsed = ExampleSchema.parse({ input: 'a', output: 'b' });
      const afterParse = loaded();
      const rejected = !PromptSpecSchema.safeParse({ instruction: '' }).success;
      const { z } = await import('zod');
      const { loadZod } = await import('@prompt2model/core/internal');
      console.log(JSON.stringify({ loadedBy, parsed, afterParse, rejected, sameZod: loadZod().object === z.object }));
    `);
    expect(result).toEqual({ loadedBy: [], parsed: { input: 'a', output: 'b' }, afterParse: true, rejected: true, sameZod: true });
  });

  it('loads and searches a saved model index without loading zod (its load is a timed figure)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2m-import-zod-'));
    try {
      const cards = [
        { id: 'org/t5-small', card: 'A text-to-text model that can translate English to German and summarize.', sizeBytes: 240_000_000, downloads: 10 },
        { id: 'org/gpt-tiny', card: 'A causal language model for story generation.', sizeBytes: 100_000_000, downloads: 5 },
      ];
      const file = join(dir, 'models.index');
      await (await ModelIndex.fromCards(cards)).save(file);
      const result = runModule(`
        const { ModelIndex } = await import('@prompt2model/model-retriever');
        const index = await ModelIndex.load(${JSON.stringify(file)});
        const top = index.search('translate English to German', { topK: 1 }).map((model) => model.id);
        console.log(JSON.stringify({ top, zodLoaded: globalThis.__zod_globalConfig !== undefined }));
      `);
      expect(result).toEqual({ top: ['org/t5-small'], zodLoaded: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI shows its help without loading zod', () => {
    const hook = `data:text/javascript,process.on('exit', () => process.stderr.write('zod loaded: ' + (globalThis.__zod_globalConfig !== undefined)))`;
    const result = runModule(`
      import { spawnSync } from 'node:child_process';
      const verbs = ['--help', 'run --help', 'generate --help', 'train --help', 'serve --help', '--version'];
      const seen = {};
      for (const verb of verbs) {
        const child = spawnSync(process.execPath, ['--import', ${JSON.stringify(hook)}, 'bin/prompt2model.js', ...verb.split(' ')], { encoding: 'utf8' });
        seen[verb] = child.status + ' ' + (child.stderr.match(/zod loaded: (\\w+)/)?.[1] ?? child.stderr);
      }
      console.log(JSON.stringify(seen));
    `);
    expect(result).toEqual({ '--help': '0 false', 'run --help': '0 false', 'generate --help': '0 false', 'train --help': '0 false', 'serve --help': '0 false', '--version': '0 false' });
  });
});

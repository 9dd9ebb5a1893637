import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ModelIndex } from '@prompt2model/model-retriever/internal';
import { addHubOptions, hubOptionsFrom, type HubCliOptions } from '../flags/hub.js';
import { CliUsageError, type CliRuntime } from '../runtime.js';

interface IndexBuildOptions extends HubCliOptions {
  from?: string;
  jsonl?: string;
}

/**
 * `prompt2model index build [file]`: snapshots the Hugging Face Hub (or indexes a local JSON Lines
 * snapshot with --from) into a saved model index, so later `models search --index FILE` works offline.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const index = program.command('index').description('Build model indexes for offline search');
  const build = index
    .command('build')
    .description('Snapshot Hugging Face model cards (listed by task, most downloaded first) into a model index file; `models search --index FILE` then works offline')
    .argument('[file]', 'index to write (.json); a .jsonl name writes the card snapshot instead', 'model-index.json')
    .option('--from <file>', 'index a local JSON Lines snapshot ({id, card, sizeBytes, downloads} rows) instead of the Hub')
    .option('--jsonl <file>', 'also write the fetched cards as a JSON Lines snapshot');
  addHubOptions(build);
  build.action(
    runtime.action(async (file: string, _options: IndexBuildOptions, command: Command) => {
      const options = runtime.options<IndexBuildOptions>(command);
      const { ModelIndex, fetchHubModelCards, writeModelCardsJsonl } = await import('@prompt2model/model-retriever/internal');
      const context = await runtime.createContext(options, { teacher: false, config: { command: 'index build', file, from: options.from ?? 'hub' } });
      const target = resolve(file);
      // Checked before the Hub is asked for anything: a folder in the way fails now, in one line.
      for (const [path, flag] of [[target, 'the index file'], ...(options.jsonl ? [[resolve(options.jsonl), 'the --jsonl file']] : [])] as Array<[string, string]>) {
        if ((await stat(path).catch(() => undefined))?.isDirectory()) {
          throw new CliUsageError(`${flag} ${path} is a folder, not a file.`, 'Name a file to write, e.g. prompt2model index build models.json');
        }
      }
      const started = Date.now();
      let source: string;
      let built: ModelIndex | undefined;
      let cards = 0;
      if (options.from) {
        source = resolve(options.from);
        built = await ModelIndex.fromJsonl(source, { onProgress: (done) => context.events.emit({ type: 'progress', stage: 'index-build', done }) });
        cards = built.size;
      } else {
        const hub = hubOptionsFrom(options, runtime);
        source = hub.hubUrl;
        const records = await fetchHubModelCards({ ...hub, events: context.events });
        cards = records.length;
        if (options.jsonl) await writeModelCardsJsonl(resolve(options.jsonl), records);
        if (/\.(jsonl|ndjson)$/i.test(target)) await writeModelCardsJsonl(target, records);
        else built = await ModelIndex.fromCards(records, { source });
      }
      if (built) await built.save(target);
      const summary = {
        file: target,
        format: built ? 'index' : 'jsonl',
        models: built ? built.size : cards,
        source,
        ...(options.jsonl && !options.from ? { jsonl: resolve(options.jsonl) } : {}),
        seconds: Math.round((Date.now() - started) / 100) / 10,
      };
      runtime.print(
        options,
        summary,
        `Wrote ${summary.models} models to ${target} (${built ? 'saved index' : 'JSON Lines snapshot'}, from ${source}) in ${summary.seconds} s.\n` +
          `Search it offline: prompt2model models search "<instruction>" --index ${file}`,
      );
    }),
  );
}

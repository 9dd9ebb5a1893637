import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
// Types only at the top: the retriever (BM25, parquet, Hub client) loads inside the actions, so the CLI starts fast.
import type { DatasetDetails, RankedDataset } from '@prompt2model/dataset-retriever/internal';
import type { PromptSpec } from '@prompt2model/core/internal';
import { CliUsageError, parseNumber, type CliRuntime } from '../runtime.js';
import { addDatasetHubOptions, retrieverConfig, type DatasetHubFlags } from '../flags/datasets.js';
import { splitList } from '../flags/lists.js';

interface SearchFlags extends DatasetHubFlags {
  topK: number;
  hyde: boolean;
  rerank: boolean;
  sizes?: boolean;
}

interface ShowFlags extends DatasetHubFlags {
  config?: string;
  split?: string;
}

interface LoadFlags extends ShowFlags {
  instruction?: string;
  input?: string[];
  output?: string;
  maxRows: number;
  save?: string;
  yes: boolean;
  transform?: number;
}

/**
 * `prompt2model datasets search|show|load`: find Hugging Face datasets for a task, see a dataset's
 * configs, sizes and columns before downloading, and load its rows as `{input, output}` JSON Lines
 * with the columns mapped (by the teacher, the card's col_mapping, or --input/--output).
 */
export function register(program: Command, runtime: CliRuntime): void {
  const datasets = program.command('datasets').description('Find and load Hugging Face datasets for a task');

  const search = datasets
    .command('search')
    .description('Rank Hugging Face datasets for a task: BM25 over dataset names and descriptions (with --hyde, over a description the teacher writes), optionally reranked by the teacher')
    .argument('<task>', 'the task, e.g. "Answer questions about a passage"')
    .addOption(new Option('-k, --top-k <n>', 'how many candidates').argParser(parseNumber('--top-k', { integer: true, min: 1 })).default(5))
    .option('--hyde', 'search with a hypothetical dataset description written by the teacher (needs --teacher and OPENAI_API_KEY or --base-url)', false)
    .option('--rerank', 'let the teacher pick the best candidate (3 votes, candidates shuffled per vote; "none fits" allowed)', false)
    .option('--sizes', 'ask the dataset viewer for the rows and bytes of each candidate (default: on without --index)');
  addDatasetHubOptions(search);
  search.action(
    runtime.action(async (task: string, _flags: SearchFlags, command: Command) => {
      const options = runtime.options<SearchFlags>(command);
      if (task.trim() === '') throw new CliUsageError('The task is empty.', 'Describe the task, e.g. "Summarize news articles".');
      const { createDatasetRetriever, getDatasetDetails } = await import('@prompt2model/dataset-retriever/internal');
      const context = await runtime.createContext(options, {
        teacher: options.hyde || options.rerank,
        config: { command: 'datasets search', task, index: options.index ?? 'hub', hyde: options.hyde, rerank: options.rerank },
      });
      const config = retrieverConfig(options, runtime);
      const retriever = createDatasetRetriever({ ...config, hyde: options.hyde, rerank: options.rerank });
      const spec: PromptSpec = { instruction: task, examples: [], language: 'en' };
      const outcome = await retriever.search(spec, context, { topK: options.topK });
      await context.store.saveCost(context.ledger.snapshot());
      const withSizes = options.sizes ?? options.index === undefined;
      const sizes = withSizes
        ? await Promise.all(outcome.candidates.map((candidate) => getDatasetDetails(candidate.id, {}, config.hub).then((d) => ({ rows: d.rows, bytes: d.bytes }), () => undefined)))
        : [];
      const rows = outcome.candidates.map((candidate, index) => ({
        id: candidate.id,
        score: round(candidate.score),
        downloads: candidate.downloads ?? null,
        rows: sizes[index]?.rows ?? null,
        bytes: sizes[index]?.bytes ?? null,
        gated: candidate.gated ?? null,
        description: oneLine(candidate.description),
      }));
      const result = { query: outcome.query, hyde: outcome.hyde, matched: outcome.matched, excluded: outcome.excluded, candidates: rows, ...(outcome.rerank ? { rerank: { dataset: outcome.rerank.dataset, tally: outcome.rerank.tally, reasons: outcome.rerank.votes.map((vote) => vote.reason) } } : {}) };
      runtime.print(options, result, () => describeSearch(outcome.candidates, rows, outcome));
    }),
  );

  const show = datasets
    .command('show')
    .description("A dataset's configs, splits, sizes (rows and bytes) and columns, from the dataset viewer, before any download")
    .argument('<dataset>', 'Hugging Face dataset id, e.g. squad or rajpurkar/squad')
    .option('--config <name>', 'config whose columns to show (default: the card’s evaluation config, else default/the first)')
    .option('--split <name>', 'split a load would use (default: train, else the first)');
  addDatasetHubOptions(show);
  show.action(
    runtime.action(async (dataset: string, _flags: ShowFlags, command: Command) => {
      const options = runtime.options<ShowFlags>(command);
      const { createDatasetRetriever } = await import('@prompt2model/dataset-retriever/internal');
      const retriever = createDatasetRetriever({ ...retrieverConfig(options, runtime), hyde: false, rerank: false });
      const details = await retriever.describe(dataset);
      runtime.print(options, details, () => describeDetails(details));
    }),
  );

  const load = datasets
    .command('load')
    .description('Load a dataset’s rows as {input, output} JSON Lines: columns mapped by the teacher (seeded by the card), --input/--output, or name heuristics; confirmed on a TTY')
    .argument('<dataset>', 'Hugging Face dataset id')
    .option('--instruction <text>', 'the task, so the teacher can map the columns (e.g. "Translate German to English")')
    .option('--config <name>', 'dataset config (default: the card’s evaluation config, else default/the first)')
    .option('--split <name>', 'split to load (default: train, else the first)')
    .addOption(new Option('--input <paths>', 'input column path(s), comma-separated, e.g. question,context').argParser(splitList))
    .option('--output <path>', 'output column path, e.g. answers.text[0] or translation.en')
    .addOption(new Option('--max-rows <n>', 'most rows to download').argParser(parseNumber('--max-rows', { integer: true, min: 1 })).default(3000))
    .addOption(new Option('--transform <n>', 'let the teacher rewrite up to N rows into the task format (plan, then one call a row)').argParser(parseNumber('--transform', { integer: true, min: 1 })))
    .option('--save <file>', 'JSON Lines file to write (default: <--out>/retrieved.jsonl, else ./<dataset>.jsonl)')
    .option('-y, --yes', 'accept the proposed column mapping without asking', false);
  addDatasetHubOptions(load);
  load.action(
    runtime.action(async (dataset: string, _flags: LoadFlags, command: Command) => {
      const options = runtime.options<LoadFlags>(command);
      const mapped = Boolean(options.input?.length && options.output);
      const instruction = options.instruction ?? '';
      const needsTeacher = (!mapped && instruction.trim() !== '') || options.transform !== undefined;
      if (options.transform !== undefined && instruction.trim() === '') throw new CliUsageError('--transform needs --instruction (the task to rewrite the rows for).');
      const { confirmMappingOnTerminal, createDatasetRetriever } = await import('@prompt2model/dataset-retriever/internal');
      const { AtomicJsonlWriter, RUN_FILES, throwIfAborted } = await import('@prompt2model/core/internal');
      const context = await runtime.createContext(options, { teacher: needsTeacher, config: { command: 'datasets load', dataset, instruction } });
      const interactive = runtime.io.isTTY && !options.yes && !options.json;
      const retriever = createDatasetRetriever({
        ...retrieverConfig(options, runtime),
        hyde: false,
        rerank: false,
        includeGated: true,
        ...(options.config ? { config: options.config } : {}),
        ...(options.split ? { split: options.split } : {}),
        mapping: { ...(options.input ? { input: options.input } : {}), ...(options.output ? { output: options.output } : {}) },
        ...(options.transform ? { transform: { maxExamples: options.transform } } : {}),
        ...(interactive ? { confirmMapping: confirmMappingOnTerminal({ beforeAsking: () => runtime.finish() }) } : {}),
      });
      const spec: PromptSpec = { instruction, examples: [], language: 'en' };
      const file = resolve(options.save ?? (options.out ? join(options.out, RUN_FILES.retrieved) : `${dataset.replace(/[^\w.-]+/g, '_')}.jsonl`));
      await mkdir(dirname(file), { recursive: true });
      // Rows stream into a temporary file that replaces FILE only when the load is complete: kill -9
      // or Ctrl-C leaves FILE as it was.
      const writer = await AtomicJsonlWriter.open(file);
      let count = 0;
      let loaded;
      try {
        loaded = await retriever.load(spec, dataset, context, {
          maxRows: options.maxRows,
          write: async (batch) => {
            throwIfAborted(context.signal);
            await writer.writeAll(batch);
            count += batch.length;
          },
        });
        throwIfAborted(context.signal);
        await writer.commit();
      } catch (error) {
        await writer.discard();
        throw error;
      }
      await context.store.saveCost(context.ledger.snapshot());
      const { examples: _streamed, ...summary } = loaded;
      runtime.print(options, { ...summary, count, file }, () =>
        [
          `Loaded ${count} examples from ${dataset} (${loaded.config}/${loaded.split}${loaded.revision ? ` @ ${loaded.revision.slice(0, 10)}` : ''}, via ${loaded.via}) into ${file}`,
          `Columns: input ${loaded.mapping.input.join(' + ')} → output ${loaded.mapping.output} (${loaded.mapping.source})`,
          `Rows: ${loaded.rows} read${loaded.rows < loaded.totalRows ? " (a seeded sample across the split)" : ""} of ${loaded.totalRows} in the split; ${loaded.dropped} dropped for an empty input or output${loaded.transformed ? `; ${loaded.transformed.kept} rewritten by the teacher, ${loaded.transformed.dropped} dropped` : ''}.`,
        ].join('\n'),
      );
    }),
  );
}

function describeSearch(candidates: RankedDataset[], rows: Array<{ id: string; score: number; downloads: number | null; rows: number | null; gated: unknown }>, outcome: { hyde: boolean; matched: number; excluded: { byName: number; gated: number }; rerank?: { dataset: string | null; tally: Record<string, number> } }): string {
  const header = ['#', 'dataset', 'score', 'downloads', 'rows', 'gated', 'description'];
  const table = rows.map((row, index) => [
    String(index + 1),
    row.id,
    row.score.toFixed(2),
    row.downloads === null ? '?' : row.downloads.toLocaleString('en-US'),
    row.rows === null ? '?' : row.rows.toLocaleString('en-US'),
    row.gated === null ? '?' : row.gated ? String(row.gated) : 'no',
    oneLine(candidates[index]!.description, 70),
  ]);
  const widths = header.map((_, column) => Math.max(header[column]!.length, ...table.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const notes = [
    `${outcome.hyde ? 'Query: a HyDE dataset description written by the teacher. ' : ''}${outcome.matched} matched${outcome.excluded.gated ? `; ${outcome.excluded.gated} gated left out (--include-gated keeps them)` : ''}${outcome.excluded.byName ? `; ${outcome.excluded.byName} excluded by name` : ''}.`,
  ];
  if (outcome.rerank) notes.push(outcome.rerank.dataset ? `Teacher's pick: ${outcome.rerank.dataset} (votes: ${JSON.stringify(outcome.rerank.tally)}).` : `Teacher's pick: none fits (votes: ${JSON.stringify(outcome.rerank.tally)}).`);
  return [format(header), ...table.map(format), '', ...notes].join('\n');
}

function describeDetails(details: DatasetDetails): string {
  const lines = [`${details.id}${details.rows !== undefined ? `: ${details.rows.toLocaleString('en-US')} rows` : ''}${details.bytes !== undefined ? `, ${formatBytes(details.bytes)} parquet` : ''}`];
  for (const config of details.configs) {
    lines.push(`  config ${config.config}: ${config.splits.map((s) => `${s.split} (${s.rows === undefined ? '?' : s.rows.toLocaleString('en-US')} rows${s.bytes !== undefined ? `, ${formatBytes(s.bytes)}` : ''})`).join(', ')}`);
  }
  lines.push(`Columns of ${details.config} (a load reads ${details.split}):`);
  for (const path of details.paths) lines.push(`  ${path.path}  ${path.classNames ? `class label: ${path.classNames.slice(0, 10).join(', ')}${path.classNames.length > 10 ? ', …' : ''}` : path.type}`);
  return lines.join('\n');
}

function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

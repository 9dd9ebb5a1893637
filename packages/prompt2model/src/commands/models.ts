import { Option, type Command } from 'commander';
import type { ModelArchitecture, PromptSpec } from '@prompt2model/core/internal';
import type { RankedModel } from '@prompt2model/model-retriever/internal';
import { addHubOptions, hubOptionsFrom, type HubCliOptions } from '../flags/hub.js';
import { splitList } from '../flags/lists.js';
import { CliUsageError, parseNumber, parseSize, type CliRuntime, type GlobalOptions } from '../runtime.js';

interface ModelsSearchOptions extends HubCliOptions {
  index?: string;
  topK: number;
  maxSize: number;
  hyde: boolean;
  gpuMemory?: number;
  method: 'lora' | 'full';
  seqLen: number;
  batchSize: number;
  architecture?: ModelArchitecture[];
  license?: string[];
  allowUnknownSize: boolean;
}

const architectures: ModelArchitecture[] = ['encoder-decoder', 'decoder-only', 'encoder-only', 'unknown'];

/**
 * `prompt2model models search "<instruction>" [--index FILE] [--top-k 5] [--max-size 3GB] [--hyde]
 * [--gpu-memory 24GB] [--json]`: ranked base-model candidates. Without --index the candidates come
 * from the live Hugging Face Hub (listing and cards cached on disk).
 */
export function register(program: Command, runtime: CliRuntime): void {
  const models = program.command('models').description('Find base models to fine-tune');
  const search = models
    .command('search')
    .description(
      'Rank base models for a task: BM25 over Hugging Face model cards (with --hyde, over a model card the teacher writes for the task) × log10(downloads + 2), keeping only models that fit the size, architecture, license and GPU-memory limits',
    )
    .argument('<instruction>', 'the task, e.g. "Translate English to German"')
    .option('--index <file>', 'a saved index (.json, from `prompt2model index build`) or a JSON Lines card snapshot (.jsonl); default: the live Hugging Face Hub, cached on disk')
    .addOption(new Option('-k, --top-k <n>', 'how many candidates').argParser(parseNumber('--top-k', { integer: true, min: 1 })).default(5))
    .addOption(new Option('--max-size <size>', 'largest weights size, e.g. 3GB, 500MB; "none" for no limit').argParser(parseMaxSize).default(3e9, '3GB'))
    .option('--hyde', 'let the teacher write a hypothetical model card for the task and search with it (needs --teacher and OPENAI_API_KEY or --base-url)', false)
    .addOption(new Option('--gpu-memory <size>', 'drop models whose estimated fine-tuning peak exceeds this GPU memory, e.g. 24GB').argParser(parseSize))
    .addOption(new Option('--method <method>', 'fine-tuning the GPU budget must fit').choices(['lora', 'full']).default('lora'))
    .addOption(new Option('--seq-len <n>', 'sequence length for the memory estimate').argParser(parseNumber('--seq-len', { integer: true, min: 1 })).default(512))
    .addOption(new Option('--batch-size <n>', 'batch size for the memory estimate').argParser(parseNumber('--batch-size', { integer: true, min: 1 })).default(8))
    .addOption(new Option('--architecture <list>', `allowed architectures, comma-separated (${architectures.join(', ')})`).argParser(parseArchitectures))
    .addOption(new Option('--license <list>', 'allowed licenses, comma-separated, e.g. apache-2.0,mit').argParser((value) => splitList(value).map((item) => item.toLowerCase())))
    .option('--allow-unknown-size', 'keep models whose size is unknown (dropped by default when a size or memory limit applies)', false);
  addHubOptions(search);
  search.action(
    runtime.action(async (instruction: string, _options: ModelsSearchOptions, command: Command) => {
      const options = runtime.options<ModelsSearchOptions>(command);
      if (instruction.trim() === '') throw new CliUsageError('The instruction is empty.', 'Describe the task, e.g. "Summarize news articles".');
      const context = await runtime.createContext(options, {
        teacher: options.hyde,
        config: { command: 'models search', instruction, index: options.index ?? 'hub', hyde: options.hyde },
      });
      const { createModelRetriever, describeExclusions, formatBytes } = await import('@prompt2model/model-retriever/internal');
      const retriever = createModelRetriever({
        ...(options.index ? { index: options.index } : { hub: hubOptionsFrom(options, runtime) }),
        hyde: options.hyde,
        maxSizeBytes: Number.isFinite(options.maxSize) ? options.maxSize : null,
        allowUnknownSize: options.allowUnknownSize,
        trainingMethod: options.method,
        sequenceLength: options.seqLen,
        batchSize: options.batchSize,
        ...(options.gpuMemory !== undefined ? { gpuMemoryBytes: options.gpuMemory } : {}),
        ...(options.architecture ? { architectures: options.architecture } : {}),
        ...(options.license ? { licenses: options.license } : {}),
      });
      const spec: PromptSpec = { instruction, examples: [], language: 'en' };
      const result = await retriever.retrieveDetailed(spec, { topK: options.topK }, context);
      await context.store.saveCost(context.ledger.snapshot());
      const candidates = result.candidates.map(({ relevance: _relevance, ...candidate }) => candidate);
      runtime.print(options, candidates, () => describe(result.candidates, options, formatBytes, describeExclusions(result, { maxSizeBytes: Number.isFinite(options.maxSize) ? options.maxSize : null }), result.hyde));
    }),
  );
}

// Infinity, not null, for "no limit": commander turns a null returned by a parser into ''.
function parseMaxSize(value: string): number {
  return /^(none|off|unlimited)$/i.test(value.trim()) ? Number.POSITIVE_INFINITY : parseSize(value);
}

function parseArchitectures(value: string): ModelArchitecture[] {
  const list = splitList(value);
  for (const item of list) {
    if (!architectures.includes(item as ModelArchitecture)) {
      throw new CliUsageError(`Unknown architecture "${item}"`, `Use one or more of: ${architectures.join(', ')}.`);
    }
  }
  return list as ModelArchitecture[];
}

function describe(candidates: RankedModel[], options: ModelsSearchOptions & GlobalOptions, formatBytes: (bytes: number | undefined) => string, summary: string, hyde: boolean): string {
  const header = ['#', 'model', 'score', 'size', 'downloads', 'architecture', options.method === 'full' ? 'full FT memory' : 'LoRA memory'];
  const rows = candidates.map((candidate, index) => [
    String(index + 1),
    candidate.id,
    candidate.score.toFixed(2),
    formatBytes(candidate.sizeBytes),
    candidate.downloads === undefined ? '?' : candidate.downloads.toLocaleString('en-US'),
    candidate.architecture,
    candidate.estimatedMemory ? formatBytes(options.method === 'full' ? candidate.estimatedMemory.fullBytes : candidate.estimatedMemory.loraBytes) : '?',
  ]);
  const widths = header.map((_, column) => Math.max(header[column]!.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [
    format(header),
    ...rows.map(format),
    '',
    `${hyde ? 'Query: a HyDE model card written by the teacher. ' : ''}${summary}.`,
    `Memory: estimated peak for ${options.method === 'full' ? 'full fine-tuning' : 'LoRA'} at sequence length ${options.seqLen}, batch size ${options.batchSize}, bf16.`,
  ].join('\n');
}

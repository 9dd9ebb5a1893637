import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { DatasetRetrieverConfig } from '@prompt2model/dataset-retriever/internal';
import { loadSetting } from '@prompt2model/core/settings';
import { parseNumber, type CliRuntime, type GlobalOptions } from '../runtime.js';
import { hubAccessFrom } from './hub.js';
import { splitList } from './lists.js';

/** Flags of `addDatasetHubOptions`: where candidate datasets come from and how the Hub is reached. */
export interface DatasetHubFlags {
  index?: string;
  hubUrl?: string;
  hubToken?: string;
  viewerUrl?: string;
  hubCache?: string | false;
  limit: number;
  exclude?: string[];
  includeGated: boolean;
}

/** Dataset source and Hub flags shared by `datasets search|show|load`. */
export function addDatasetHubOptions(command: Command): Command {
  return command
    .option('--index <file>', 'a JSON Lines dataset snapshot ({id, description, evaluationMetadata} a line); default: the live Hub listing, cached on disk')
    .addOption(new Option('--exclude <ids>', 'datasets to leave out, comma-separated (e.g. the ones you evaluate on)').argParser(splitList))
    .option('--include-gated', 'keep gated datasets when a token is set (HF_TOKEN or --hub-token; their terms must be accepted on the Hub)', false)
    .option('--hub-url <url>', 'Hugging Face Hub URL (default: HF_ENDPOINT, else https://huggingface.co)')
    .option('--hub-token <token>', 'Hub access token for gated and private datasets (default: HF_TOKEN)')
    .option('--viewer-url <url>', 'dataset viewer API URL (default: HF_DATASET_VIEWER_URL, else https://datasets-server.huggingface.co)')
    .option('--hub-cache <dir>', 'cache folder for listings and rows (default: $P2M_CACHE_DIR/hub or ~/.cache/prompt2model/hub)')
    .option('--no-hub-cache', 'do not read or write the Hub cache')
    .addOption(new Option('--limit <n>', 'datasets to list from the Hub, most downloaded first').argParser(parseNumber('--limit', { integer: true, min: 1 })).default(1000));
}

/** The retriever's sources and Hub access from the flags and the environment (HF_TOKEN, HF_ENDPOINT, HF_DATASET_VIEWER_URL). */
export function retrieverConfig(options: DatasetHubFlags & GlobalOptions, runtime: CliRuntime): DatasetRetrieverConfig & { hub: NonNullable<DatasetRetrieverConfig['hub']> } {
  const env = runtime.io.env;
  const { cacheRoot, ...access } = hubAccessFrom(options, env);
  const datasetViewerUrl = loadSetting({ settingValue: options.viewerUrl, environmentVariableName: 'HF_DATASET_VIEWER_URL', env });
  return {
    ...(options.index ? { index: resolve(options.index) } : {}),
    ...(options.exclude ? { exclude: options.exclude } : {}),
    includeGated: options.includeGated,
    ...(options.hubCache === false ? { indexCacheDir: false as const } : cacheRoot ? { indexCacheDir: resolve(cacheRoot, 'dataset-index') } : {}),
    hub: {
      ...access,
      ...(datasetViewerUrl ? { datasetViewerUrl } : {}),
      signal: runtime.signal,
      listing: { limit: options.limit },
    },
  };
}

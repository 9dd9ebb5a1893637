import { Prompt2ModelError, ValidationError } from '@prompt2model/core/internal';
import {
  getDatasetConfigInfo,
  getDatasetSize,
  getDatasetSplits,
  type DatasetConfigInfo,
  type HubDatasetRequestOptions,
} from '@prompt2model/huggingface/hub';
import { evaluationEntries } from './dataset-record.js';
import { columnPaths, type ColumnPath } from './features.js';

export interface SplitDetails {
  split: string;
  rows?: number;
  /** Parquet bytes (what a full download would fetch). */
  bytes?: number;
}

export interface ConfigDetails {
  config: string;
  splits: SplitDetails[];
}

export interface DatasetDetails {
  id: string;
  configs: ConfigDetails[];
  /** Rows and parquet bytes of the whole dataset. */
  rows?: number;
  bytes?: number;
  /** The config and split a load uses unless told otherwise. */
  config: string;
  split: string;
  features: DatasetConfigInfo['features'];
  paths: ColumnPath[];
  description?: string;
}

/**
 * Configs, splits, sizes (rows and bytes, shown before any download) and the features of the
 * config a load would use, from the dataset viewer's `/splits`, `/size` and `/info`.
 */
export async function getDatasetDetails(
  id: string,
  choice: { config?: string; split?: string; evaluationMetadata?: unknown } = {},
  options: HubDatasetRequestOptions = {},
): Promise<DatasetDetails> {
  const [splits, size] = await Promise.all([getDatasetSplits(id, options), getDatasetSize(id, options).catch(() => undefined)]);
  const configs: ConfigDetails[] = [];
  for (const entry of splits) {
    let config = configs.find((c) => c.config === entry.config);
    if (!config) configs.push((config = { config: entry.config, splits: [] }));
    const sized = size?.splits.find((s) => s.config === entry.config && s.split === entry.split);
    config.splits.push({
      split: entry.split,
      ...(sized ? { rows: sized.num_rows } : {}),
      ...(sized?.num_bytes_parquet_files != null ? { bytes: sized.num_bytes_parquet_files } : {}),
    });
  }
  const { config, split } = chooseConfigAndSplit(configs, choice);
  const info = await getDatasetConfigInfo(id, config, options);
  return {
    id,
    configs,
    ...(size ? { rows: size.dataset.num_rows } : {}),
    ...(size?.dataset.num_bytes_parquet_files != null ? { bytes: size.dataset.num_bytes_parquet_files } : {}),
    config,
    split,
    features: info.features,
    paths: columnPaths(info.features),
    ...(info.description ? { description: info.description } : {}),
  };
}

/** The flag's choice, else the card's evaluation config and train split, else `default`/the first config and `train`/the first split. */
export function chooseConfigAndSplit(configs: ConfigDetails[], choice: { config?: string; split?: string; evaluationMetadata?: unknown }): { config: string; split: string } {
  if (configs.length === 0) throw new Prompt2ModelError({ message: 'The dataset viewer lists no splits for this dataset.', hint: 'Pick another dataset (`exclude` it), or check it on the Hub.' });
  const entries = evaluationEntries(choice.evaluationMetadata);
  const byName = (name: string | undefined) => (name ? configs.find((c) => c.config === name) : undefined);
  const config =
    byName(choice.config) ??
    (choice.config
      ? undefined
      : entries.map((entry) => byName(entry.config)).find(Boolean) ?? byName('default') ?? byName('plain_text') ?? configs[0]);
  if (!config) {
    throw new ValidationError({ subject: 'dataset config', issues: [{ path: 'config', message: `"${choice.config}" does not exist` }], hint: `Pass \`config\` with one of: ${configs.map((c) => c.config).join(', ')}.` });
  }
  const splitNames = config.splits.map((s) => s.split);
  const trainSplit = entries.find((entry) => entry.config === config.config)?.splits?.train_split;
  const split = choice.split ?? [trainSplit, 'train'].find((name) => name && splitNames.includes(name)) ?? splitNames[0]!;
  if (!splitNames.includes(split)) {
    throw new ValidationError({ subject: `dataset split of config ${config.config}`, issues: [{ path: 'split', message: `"${split}" does not exist` }], hint: `Pass \`split\` with one of: ${splitNames.join(', ')}.` });
  }
  return { config: config.config, split };
}

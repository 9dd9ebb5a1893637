import { JsonlWriter } from '@prompt2model/core/internal';
import { fetchHubModels, resolveHubUrl, type FetchHubModelsOptions, type HubModel } from '@prompt2model/huggingface/hub';
import { ModelIndex, type BuildModelIndexOptions, type ModelCardRecord } from './model-index.js';
import { detectArchitecture, parseCardMetadata } from './model-card.js';

// The Hub client (listing, cards, disk cache, token, URL) lives in @prompt2model/huggingface;
// this file only turns its models into the retriever's records.
export { DEFAULT_HUB_TASKS, DEFAULT_HUB_URL, defaultHubCacheDir } from '@prompt2model/huggingface/hub';

/** Options of a Hub snapshot: see `fetchHubModels` in @prompt2model/huggingface. */
export type HubSnapshotOptions = FetchHubModelsOptions;

/** One model as the snapshot stores it: the JSON Lines row format, plus what the Hub tells. */
export interface HubModelRecord {
  id: string;
  card: string;
  sizeBytes?: number;
  downloads: number;
  parameters?: number;
  license?: string;
  architecture: ReturnType<typeof detectArchitecture>;
  pipelineTag?: string;
  lastModified?: string;
}

/**
 * Lists models on the Hub by task and fetches each one's card and weights size (with the Hub
 * client's disk cache), then tells each one's architecture and license from its card and config.
 */
export async function fetchHubModelCards(options: HubSnapshotOptions = {}): Promise<HubModelRecord[]> {
  return (await fetchHubModels(options)).map(toModelRecord);
}

/** Snapshots the Hub into a ModelIndex (see `fetchHubModelCards` for the options). */
export async function buildIndexFromHub(options: HubSnapshotOptions & BuildModelIndexOptions = {}): Promise<ModelIndex> {
  const records = await fetchHubModelCards(options);
  return ModelIndex.fromCards(records, { source: resolveHubUrl(options.hubUrl), ...options });
}

/** Writes cards as JSON Lines (`{id, card, sizeBytes, downloads, ...}`), the offline snapshot format. */
export async function writeModelCardsJsonl(path: string, records: Iterable<ModelCardRecord | HubModelRecord>): Promise<number> {
  const writer = await JsonlWriter.open(path, { truncate: true });
  let count = 0;
  try {
    for (const record of records) {
      await writer.write(record);
      count++;
    }
  } finally {
    await writer.close();
  }
  return count;
}

function toModelRecord(model: HubModel): HubModelRecord {
  const license = model.license ?? parseCardMetadata(model.card).license;
  return {
    id: model.id,
    card: model.card,
    downloads: model.downloads,
    architecture: detectArchitecture({
      id: model.id,
      card: model.card,
      ...(model.config ? { config: model.config } : {}),
      ...(model.pipelineTag ? { pipelineTag: model.pipelineTag } : {}),
      ...(model.tags ? { tags: model.tags } : {}),
    }),
    ...(model.sizeBytes !== undefined ? { sizeBytes: model.sizeBytes } : {}),
    ...(model.parameters !== undefined ? { parameters: model.parameters } : {}),
    ...(license ? { license } : {}),
    ...(model.pipelineTag ? { pipelineTag: model.pipelineTag } : {}),
    ...(model.lastModified ? { lastModified: model.lastModified } : {}),
  };
}

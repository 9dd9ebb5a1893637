import { datasetViewerGet } from './dataset-viewer-request.js';
import { ParquetResponseSchema, parseViewerResponse, type ParquetFileEntry } from './dataset-viewer-types.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** The viewer's parquet conversion of a dataset (`GET /parquet?dataset=[&config=][&split=]`), in shard order. */
export async function listDatasetParquetFiles(
  dataset: string,
  where: { config?: string; split?: string } = {},
  options: HubDatasetRequestOptions = {},
): Promise<ParquetFileEntry[]> {
  const value = await datasetViewerGet(resolveHubDatasetOptions(options), 'parquet', { dataset, config: where.config, split: where.config ? where.split : undefined });
  const files = parseViewerResponse(ParquetResponseSchema, value, `/parquet of ${dataset}`).parquet_files;
  return files.filter((file) => (!where.config || file.config === where.config) && (!where.split || file.split === where.split));
}

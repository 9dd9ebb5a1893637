import { datasetViewerGet } from './dataset-viewer-request.js';
import { DatasetSizeResponseSchema, parseViewerResponse, type DatasetSize } from './dataset-viewer-types.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** Rows and bytes of the dataset, each config and each split (`GET /size?dataset=`), shown before any download. */
export async function getDatasetSize(dataset: string, options: HubDatasetRequestOptions = {}): Promise<DatasetSize> {
  const value = await datasetViewerGet(resolveHubDatasetOptions(options), 'size', { dataset });
  return parseViewerResponse(DatasetSizeResponseSchema, value, `/size of ${dataset}`).size;
}

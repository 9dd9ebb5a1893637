import { datasetViewerGet } from './dataset-viewer-request.js';
import { DatasetInfoResponseSchema, parseViewerResponse, type DatasetConfigInfo } from './dataset-viewer-types.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** One config's features, split sizes and description (`GET /info?dataset=&config=`). */
export async function getDatasetConfigInfo(dataset: string, config: string, options: HubDatasetRequestOptions = {}): Promise<DatasetConfigInfo> {
  const value = await datasetViewerGet(resolveHubDatasetOptions(options), 'info', { dataset, config });
  return parseViewerResponse(DatasetInfoResponseSchema, value, `/info of ${dataset} (${config})`).dataset_info;
}

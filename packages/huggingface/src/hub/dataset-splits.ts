import { datasetViewerGet } from './dataset-viewer-request.js';
import { DatasetSplitsResponseSchema, parseViewerResponse, type DatasetSplitEntry } from './dataset-viewer-types.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** The dataset's configs and splits (`GET /splits?dataset=`). */
export async function getDatasetSplits(dataset: string, options: HubDatasetRequestOptions = {}): Promise<DatasetSplitEntry[]> {
  const value = await datasetViewerGet(resolveHubDatasetOptions(options), 'splits', { dataset });
  return parseViewerResponse(DatasetSplitsResponseSchema, value, `/splits of ${dataset}`).splits;
}

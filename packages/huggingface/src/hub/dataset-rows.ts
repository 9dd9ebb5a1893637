import { datasetViewerGet } from './dataset-viewer-request.js';
import { DatasetRowsResponseSchema, parseViewerResponse, type DatasetRowsPage } from './dataset-viewer-types.js';
import { resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';

/** The viewer serves at most this many rows per `/rows` page. */
export const MAX_ROWS_PER_PAGE = 100;

/** One page of rows (`GET /rows?dataset=&config=&split=&offset=&length=`): the fallback where no parquet conversion exists. */
export async function getDatasetRows(
  request: { dataset: string; config: string; split: string; offset?: number; length?: number },
  options: HubDatasetRequestOptions = {},
): Promise<DatasetRowsPage> {
  const value = await datasetViewerGet(resolveHubDatasetOptions(options), 'rows', {
    dataset: request.dataset,
    config: request.config,
    split: request.split,
    offset: request.offset ?? 0,
    length: Math.min(request.length ?? MAX_ROWS_PER_PAGE, MAX_ROWS_PER_PAGE),
  });
  return parseViewerResponse(DatasetRowsResponseSchema, value, `/rows of ${request.dataset}`);
}

// Hub dataset functions (listing, dataset viewer, parquet rows), one per file.
export { GatedDatasetError } from './gated-dataset-error.js';
export { DEFAULT_DATASET_VIEWER_URL, resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';
export { listHubDatasets, type HubDatasetRecord, type ListHubDatasetsOptions } from './list-hub-datasets.js';
export { getDatasetSplits } from './dataset-splits.js';
export { getDatasetConfigInfo } from './dataset-viewer-info.js';
export { getDatasetSize } from './dataset-size.js';
export { listDatasetParquetFiles } from './dataset-parquet-files.js';
export { getDatasetRows, MAX_ROWS_PER_PAGE } from './dataset-rows.js';
export { readParquetRows, type ParquetRows, type ReadParquetRowsRequest } from './read-parquet-rows.js';
export type { DatasetConfigInfo, DatasetFeature, DatasetRowsPage, DatasetSize, DatasetSplitEntry, ParquetFileEntry } from './dataset-viewer-types.js';

// The Hugging Face Hub client: one function per file, wire types in types/api.ts.
export { DEFAULT_HUB_URL, resolveHubUrl } from './hub-url.js';
export { resolveHubToken } from './hub-token.js';
export { defaultHubCacheDir, hubCacheFolder } from './hub-cache-dir.js';
export { createHubCaller, type HubCaller, type HubModule, type HubRequestOptions } from './create-hub-caller.js';
export { toHubError } from './to-hub-error.js';
export { listHubModels } from './list-models.js';
export { downloadModelCard } from './download-model-card.js';
export { checkHubModelExists, checkHubReachable, isHubRepoId } from './check-hub.js';
export { modelWeightsSize, safetensorsBytes, safetensorsParameterCount } from './weights-size.js';
export { fetchHubModels, DEFAULT_HUB_TASKS } from './fetch-hub-models.js';
export { readCachedJson, writeCachedJson } from './disk-cache.js';
export type { FetchHubModelsOptions, HubClientOptions, HubModel, HubModelSummary, ListHubModelsOptions } from './types/public.js';
export { planModelUpload, locateModelFolders, type ModelUploadPlan, type PlannedUpload } from './model-upload-plan.js';
export { pushModel, type PushModelOptions, type PushModelResult } from './push-model.js';

// Hub dataset functions (listing, dataset viewer, parquet rows), one per file.
export { GatedDatasetError } from './gated-dataset-error.js';
export { DatasetNotFoundError } from './dataset-not-found-error.js';
export { DEFAULT_DATASET_VIEWER_URL, resolveHubDatasetOptions, type HubDatasetRequestOptions } from './hub-dataset-options.js';
export { listHubDatasets, type HubDatasetRecord, type ListHubDatasetsOptions } from './list-hub-datasets.js';
export { getDatasetSplits } from './dataset-splits.js';
export { getDatasetConfigInfo } from './dataset-viewer-info.js';
export { getDatasetSize } from './dataset-size.js';
export { listDatasetParquetFiles } from './dataset-parquet-files.js';
export { getDatasetRows, MAX_ROWS_PER_PAGE } from './dataset-rows.js';
export { readParquetRows, decodeParquetRows, plainParquetValue, type ParquetRows, type ReadParquetRowsRequest } from './read-parquet-rows.js';
export { ParquetFileCache, type RemoteParquetFile } from './remote-parquet-file.js';
export type { DatasetConfigInfo, DatasetFeature, DatasetRowsPage, DatasetSize, DatasetSplitEntry, ParquetFileEntry } from './dataset-viewer-types.js';
export { getDatasetRevision } from './dataset-revision.js';

// Repos as file stores (training jobs' data and results) and the Jobs API.
export { uploadRepoFiles, downloadRepoFiles, type UploadRepoFilesOptions, type UploadRepoFilesResult, type DownloadRepoFilesOptions, type HubRepoType } from './repo-files.js';
export { createHubJobsClient, type HubJobsClient, type HubJob, type HubJobHardware, type HubJobSpec } from './hub-jobs.js';

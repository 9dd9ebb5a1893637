export { DatasetIndex, type DatasetSearchOptions, type DatasetSearchResult, type IndexedDataset, type RankedDataset } from './dataset-index.js';
export { DatasetRecordSchema, datasetSearchText, evaluationEntries, type DatasetRecord, type EvaluationEntry } from './dataset-record.js';
export { buildDatasetIndexFromHub, type HubDatasetIndexOptions } from './hub-index.js';
export { columnPaths, parsePath, readPath, sampleRowText, type ColumnPath } from './features.js';
export {
  heuristicMapping,
  inputText,
  mappingFromEvaluationMetadata,
  outputText,
  teacherColumnMapping,
  validateMapping,
  type ColumnMapping,
  type ColumnMappingProposal,
} from './column-mapping.js';
export { confirmMappingOnTerminal, type TerminalMappingConfirmationOptions } from './confirm-mapping.js';
export { chooseConfigAndSplit, getDatasetDetails, type ConfigDetails, type DatasetDetails, type SplitDetails } from './dataset-details.js';
export { DEFAULT_MAX_ROWS, loadDatasetRows, streamDatasetRows, type LoadRowsRequest, type LoadedRows, type RowBatch, type RowLoaderOptions, type RowStreamSummary } from './row-loader.js';
export { datasetHydeMessages, datasetHydeQuery } from './hyde.js';
export { rerankDatasets, rerankMessages, type RerankOptions, type RerankResult, type RerankVote } from './rerank.js';
export { transformExamples, type TransformOptions } from './transform.js';
export { DatasetSkippedError } from './dataset-skipped-error.js';
export {
  createDatasetRetriever,
  toExamples,
  type DatasetRetrieverConfig,
  type DatasetSearchOutcome,
  type DefaultDatasetRetriever,
  type RetrievedDataset,
  type DatasetLoadOptions,
} from './retriever.js';

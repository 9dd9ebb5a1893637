/**
 * @prompt2model/dataset-retriever: the DatasetRetriever stage. Searches an index of Hugging Face
 * dataset descriptions (BM25 with a HyDE query, an optional teacher rerank), maps a dataset's columns
 * to input/output and loads its rows. Column and path helpers are under
 * `@prompt2model/dataset-retriever/internal`.
 */
export { DatasetIndex, type DatasetSearchOptions, type DatasetSearchResult, type IndexedDataset, type RankedDataset } from './dataset-index.js';
export { DatasetRecordSchema, type DatasetRecord } from './dataset-record.js';
export { buildDatasetIndexFromHub, type HubDatasetIndexOptions } from './hub-index.js';
export { loadDatasetRows, type LoadRowsRequest, type LoadedRows, type RowLoaderOptions } from './row-loader.js';
export type { ColumnMapping } from './column-mapping.js';
export { confirmMappingOnTerminal, type TerminalMappingConfirmationOptions } from './confirm-mapping.js';
export { DatasetSkippedError } from './dataset-skipped-error.js';
export {
  createDatasetRetriever,
  type DatasetRetrieverConfig,
  type DatasetSearchOutcome,
  type DefaultDatasetRetriever,
  type RetrievedDataset,
  type DatasetLoadOptions,
} from './retriever.js';


export * from './index.js';
export { datasetSearchText, evaluationEntries, type EvaluationEntry } from './dataset-record.js';
export { columnPaths, parsePath, readPath, sampleRowText, type ColumnPath } from './features.js';
export { heuristicMapping, inputText, mappingFromEvaluationMetadata, outputText, teacherColumnMapping, validateMapping, type ColumnMappingProposal } from './column-mapping.js';
export { chooseConfigAndSplit, getDatasetDetails, type ConfigDetails, type DatasetDetails, type SplitDetails } from './dataset-details.js';
export { DEFAULT_MAX_ROWS, streamDatasetRows, type RowBatch, type RowStreamSummary } from './row-loader.js';
export { datasetHydeMessages, datasetHydeQuery } from './hyde.js';
export { rerankDatasets, rerankMessages, type RerankOptions, type RerankResult, type RerankVote } from './rerank.js';
export { transformExamples, type TransformOptions } from './transform.js';
export { toExamples } from './retriever.js';

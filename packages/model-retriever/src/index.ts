/**
 * @prompt2model/model-retriever: the ModelRetriever stage. Ranks base models from an index of
 * Hugging Face model cards (BM25 over a HyDE query, a size and memory filter). Card parsing, scorers,
 * the index file format and the BM25 pieces are under `@prompt2model/model-retriever/internal`.
 */
export { ModelIndex, ModelCardRecordSchema, type ModelCardRecord, type IndexedModel, type BuildModelIndexOptions, type ModelSearchOptions, type RankedModel, type ModelSearchResult } from './model-index.js';
export { readModelIndexFile, writeModelIndexFile } from './model-index-file.js';
export { fetchHubModelCards, buildIndexFromHub, writeModelCardsJsonl, type HubSnapshotOptions, type HubModelRecord } from './hub.js';
export { estimateFineTuneMemory, type FineTuneMemoryInput, type FineTuneMemoryEstimate } from './memory.js';
export type { ModelScorer, ScoreInput } from './scoring.js';
export { createModelRetriever, type ModelRetrieverConfig, type ModelRetrieval, type DefaultModelRetriever } from './retriever.js';

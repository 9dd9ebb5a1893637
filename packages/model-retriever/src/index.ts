// The BM25 index and text preparation moved to @prompt2model/bm25 (shared with the dataset retriever); re-exported here.
export * from '@prompt2model/bm25';
export * from './model-card.js';
export * from './memory.js';
export * from './scoring.js';
export * from './model-index.js';
export { decodeModelIndex, encodeModelIndex, parseModelIndex, readModelIndexFile, serializeModelIndex, writeModelIndexFile, type ModelIndexParts, type PersistedModelIndex } from './model-index-file.js';
export * from './hyde.js';
export * from './hub.js';
export * from './retriever.js';

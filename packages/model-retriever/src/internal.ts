/**
 * `@prompt2model/model-retriever/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/model-retriever`.
 */
// The BM25 index and text preparation moved to @prompt2model/bm25 (shared with the dataset retriever); re-exported here.
export * from './index.js';
export * from '@prompt2model/bm25';
export * from './model-card.js';
export * from './memory.js';
export * from './scoring.js';
export * from './model-index.js';
export { decodeModelIndex, encodeModelIndex, parseModelIndex, serializeModelIndex, type ModelIndexParts, type PersistedModelIndex } from './model-index-file.js';
export * from './hyde.js';
export * from './hub.js';
export * from './retriever.js';

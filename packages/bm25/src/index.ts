export * from './bm25-index.js';
export * from './text-prep.js';

export * from './bm25-index.js';
export * from './text-prep.js';
export * from './model-card.js';
export * from './memory.js';
export * from './scoring.js';
export * from './model-index.js';

export * from './bm25-index.js';
export * from './binary-file.js';
export * from './text-prep.js';
export { readIndexFile } from './kernels.js';

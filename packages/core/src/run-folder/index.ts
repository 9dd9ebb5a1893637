export * from './layout.js';
export * from './files.js';
export * from './portable.js';
export * from './locate-model.js';
export * from './executor-table.js';
export * from './calibration.js';


export * from './index.js';
export { demoExecutorFor, type DemoModelOptions } from './demo-model.js';
export { demoContent, type DemoContent, type DemoInfo, type BrowserModelInfo } from './demo-info.js';
export { ModelQueue, type ModelQueueOptions } from './model-queue.js';
export { BatchQueue, type BatchQueueOptions, type BatchQueueRunOptions, type BatchRunner } from './batch-queue.js';

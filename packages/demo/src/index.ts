export { createDemoCreator, type DemoCreatorOptions, type WebDemo, type WebDemoCreator } from './demo-creator.js';
export { startDemoServer, type DemoServer, type DemoServerOptions } from './server.js';
export { resolvesToLoopback } from './request-guards.js';
export { exportStaticDemo, type StaticExportOptions, type StaticExportResult } from './static-export.js';
export { demoExecutorFor, type DemoModelOptions } from './demo-model.js';
export { demoContent, type DemoContent, type DemoInfo, type BrowserModelInfo } from './demo-info.js';
export { ModelQueue, type ModelQueueOptions } from './model-queue.js';
export { canStream, OnnxTokenRelay, type StreamingExecutor } from './token-stream.js';

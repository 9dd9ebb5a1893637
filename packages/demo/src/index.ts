/**
 * @prompt2model/demo: the DemoCreator stage. A web page where the trained model answers, served
 * (with an API) or exported as a static site that runs the model in the browser; and the same
 * model behind the OpenAI API (`startOpenAIServer`, what `prompt2model serve` runs), with dynamic
 * batching. Model discovery, the request and batching queues and token streaming are under
 * `@prompt2model/demo/internal`.
 */
export { createDemoCreator, type DemoCreatorOptions, type WebDemo, type WebDemoCreator } from './demo-creator.js';
export { startDemoServer, type DemoServer, type DemoServerOptions } from './server.js';
export { resolvesToLoopback } from './request-guards.js';
export { exportStaticDemo, type StaticExportOptions, type StaticExportResult } from './static-export.js';
export { DemoConfigError } from './demo-config-error.js';
export { DemoExportError } from './demo-export-error.js';
export { DemoHttpError } from './http-response.js';
export { startOpenAIServer, type OpenAIServer, type OpenAIServerOptions } from './openai-api/server.js';
export type { ServeStats } from './openai-api/stats.js';
export { resolveDemoTarget, type DemoTarget, type DemoTargetOptions } from './demo-target.js';

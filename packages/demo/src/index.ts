/**
 * @prompt2model/demo: the DemoCreator stage. A web page where the trained model answers, served
 * (with an API) or exported as a static site that runs the model in the browser. Model discovery,
 * the request queue and token streaming are under `@prompt2model/demo/internal`.
 */
export { createDemoCreator, type DemoCreatorOptions, type WebDemo, type WebDemoCreator } from './demo-creator.js';
export { startDemoServer, type DemoServer, type DemoServerOptions } from './server.js';
export { resolvesToLoopback } from './request-guards.js';
export { exportStaticDemo, type StaticExportOptions, type StaticExportResult } from './static-export.js';
export { DemoConfigError } from './demo-config-error.js';
export { DemoExportError } from './demo-export-error.js';
export { DemoHttpError } from './http-response.js';
export { resolveDemoTarget, type DemoTarget, type DemoTargetOptions } from './demo-target.js';

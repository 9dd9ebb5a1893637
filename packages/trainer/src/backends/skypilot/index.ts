export { SkyPilotBackend, stripNodePrefix, type SkyPilotBackendOptions } from './skypilot-backend.js';
export { buildSkyPilotTask, renderTaskYaml, pricingTask, runScript, DEFAULT_SETUP, type SkyPilotTask, type SkyPilotTaskOptions } from './task.js';
export { parseDryRunQuote, parseJobsQueue, parseManagedJobId, skyCheckProblem, SKY_INSTALL_LINE, MANAGED_JOB_STATUSES, type ManagedJobStatus } from './sky-cli.js';
export { downloadArgv, isSupportedBucket } from './bucket.js';

/**
 * `@prompt2model/trainer/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/trainer`.
 */
export * from './index.js';
export { describeBaseModel, defaultLoraTargetModules, DEFAULT_LORA_TARGET_MODULES, type ModelFamily, type ModelInfo } from './architecture.js';
export { textualize, formatPrompt, toChatRow, type TextualizeOptions, type TextualizedExample, type ChatTrainingRow } from './textualize.js';
export { type DataFormatRules } from './data.js';
export { type TrainingPricing } from './estimate.js';
export { parseEventLine } from './events.js';
export { runWorkerProcess, type WorkerProcessOptions, type WorkerExit } from './worker-process.js';
export {
  prepareJobFolder,
  readWorkerResult,
  collectFromJobFolder,
  WORKER_PROTOCOL_VERSION,
  parseWorkerResult,
  type WorkerConfig,
  type WorkerResult,
} from './job-folder.js';
export { workerPythonDir, workerEnv, resolveModelReference, PYTHON_INSTALL_HINT } from './python-path.js';
export { defaultPython, managedPython, needsPythonSetup, managedEnvironmentDir, requirementsFile, requirementsHash, detectPythonVariant, PYTHON_STACK_MODULES, ENVIRONMENT_MARKER } from './python-environment.js';
export { shellQuote } from './backends/command.js';
export {
  buildSkyPilotTask,
  renderTaskYaml,
  pricingTask,
  runScript,
  DEFAULT_SETUP,
  parseDryRunQuote,
  parseJobsQueue,
  parseManagedJobId,
  skyCheckProblem,
  stripNodePrefix,
  SKY_INSTALL_LINE,
  downloadArgv,
  type SkyPilotTask,
} from './backends/skypilot/index.js';
export { HfJobsBackend, HF_JOBS_IMAGE, HF_JOBS_DEFAULT_FLAVOR, HF_JOBS_THROUGHPUT, pricingOf as hfJobsPricing, type HfJobsBackendOptions } from './backends/hf-jobs.js';
export { actualTrainingCost } from './trainer.js';
export { hubBaseModel, modelCardInputFromRun, modelCardFolders } from './model-card.js';

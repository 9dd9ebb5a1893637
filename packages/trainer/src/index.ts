export { describeBaseModel, defaultLoraTargetModules, DEFAULT_LORA_TARGET_MODULES, type ModelFamily, type ModelInfo } from './architecture.js';
export { parseTrainingJob } from './spec.js';
export { textualize, formatPrompt, toChatRow, type TextualizeOptions, type TextualizedExample, type ChatTrainingRow } from './textualize.js';
export { validateTrainingData, TEXT_DATA_RULES, type DataFormatRules, type DataSummary, type SplitSummary } from './data.js';
export { estimateTrainingCost, formatEstimate, type TrainingEstimate, type TrainingPricing } from './estimate.js';
export type { TrainingBackend } from './backend.js';
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
export {
  setupPythonEnvironment,
  probePythonStack,
  defaultPython,
  managedPython,
  needsPythonSetup,
  managedEnvironmentDir,
  requirementsFile,
  requirementsHash,
  detectPythonVariant,
  PYTHON_STACK_MODULES,
  ENVIRONMENT_MARKER,
  type PythonVariant,
  type ManagedEnvironment,
  type SetupPythonOptions,
} from './python-environment.js';
export { EXPORT_FORMATS, exportOnnx, exportTrainedModel, type ExportFormat, type ExportFormatName, type ExportOnnxOptions, type OnnxExportResult } from './onnx-export.js';
export {
  WorkerExecutor,
  workerExecutors,
  type WorkerExecutorOptions,
  type WorkerExecutorInit,
} from './worker-executor.js';
export { LocalBackend, type LocalBackendOptions } from './backends/local.js';
export { CommandBackend, shellQuote, type CommandBackendOptions } from './backends/command.js';
export { openTrainingData, type TrainingDataFolder } from './data-folder.js';
export { createTrainer, actualTrainingCost, type CreateTrainerOptions, type TrainerWithEstimate, type PreparedTraining } from './trainer.js';
export { renderModelCard, writeModelCard, hubBaseModel, modelCardInputFromRun, modelCardFolders, type ModelCardInput } from './model-card.js';

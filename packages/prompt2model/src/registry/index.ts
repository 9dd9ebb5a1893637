export { createModelRegistry, DEFAULT_MODEL_PROVIDER, MODEL_PROVIDERS, type ModelProviderSettings } from './model-providers.js';
export { trainingBackends, type TrainingBackendSettings } from './training-backends.js';
export { createExecutor, createExecutorTable, type ExecutorSettings, type ExecutorTableSettings } from './executors.js';
export { stageImplementations, type StageImplementationNames } from './stages.js';

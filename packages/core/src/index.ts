/**
 * @prompt2model/core: what a user of the library needs. The artifact schemas, the stage interfaces,
 * the LanguageModel interface and its client, the request scheduler, the call cache, the cost
 * ledger, progress events, the Pipeline with its resumable steps (`runStep`, `RunStore`), model
 * names (`provider:model`) and the errors.
 *
 * The mechanisms the sibling packages share (hashing, atomic writes, abort fan-out,
 * token estimates, training prompts, ...) are under `@prompt2model/core/internal`: no stability
 * promise, for this project's packages and research code that accepts that.
 */
export * from './errors/index.js';
export * from './schemas.js';
export type {
  ChatMessage,
  FinishReason,
  LanguageModel,
  LanguageModelChoice,
  LanguageModelRequest,
  LanguageModelResponse,
  ResponseFormat,
  TokenUsage,
} from './language-model.js';
export { LanguageModelClient, type GenerateOptions, type GenerateResult, type LanguageModelClientOptions } from './language-model-client.js';
export { RequestScheduler, type RequestSchedulerOptions, type RetryInfo, type SchedulerStats, type TaskContext } from './scheduler.js';
export { LLMCallCache, defaultLLMCacheDir, type CacheKeyParts } from './cache.js';
export { CostLedger, DEFAULT_TOKEN_PRICES, type CostSnapshot, type TokenPrice } from './cost.js';
export { ProgressEmitter, type ProgressEvent, type ProgressListener } from './events.js';
export { readJsonl, readJsonlAll, JsonlWriter } from './jsonl.js';
export { splitExamples, type ExampleSplits, type SplitRatios } from './splits.js';
export type {
  CalibrateRequest,
  DatasetGenerator,
  DatasetGeneratorOptions,
  DatasetRetriever,
  DatasetRetrieverOptions,
  Demo,
  DemoCreator,
  EvaluateRequest,
  Evaluator,
  ExecutionStats,
  Executor,
  GeneratedDataset,
  GenerationOptions,
  ModelRetriever,
  ModelRetrieverOptions,
  Prediction,
  PromptParser,
  StreamingExecutor,
  Trainer,
  TrainerBackend,
  TrainingEvent,
  TrainingJobHandle,
} from './stages.js';
export { canStream } from './stages.js';
export { createStageContext, type CreateStageContextOptions, type StageContext } from './context.js';
export { Pipeline, PIPELINE_STEPS, runStep, type PipelineOptions, type PipelineResult, type PipelineStages, type StepOptions } from './pipeline.js';
// A resumable run folder and its steps: what a custom pipeline in research code builds on.
export { RunStore } from './run-store.js';
export { SETTINGS, loadApiKey, loadSetting, type SettingName, type SettingsEnvironment } from './settings.js';
// The model home: the run-folder layout, where a trained model is and in which formats, and the
// table that picks the executor for a model format.
export {
  RUN_FILES,
  CascadeCalibrationSchema,
  type CascadeCalibration,
  type CalibrationPoint,
  locateModel,
  locateTrainedModel,
  MODEL_FORMATS,
  executorForModel,
  type ModelFormat,
  type ModelLocation,
  type ModelRuntime,
  type RunFileName,
  type ExecutorTable,
  type ExecutorFactory,
  type ExecutorRequest,
} from './run-folder/index.js';
export type { DataFormatRules, TrainingPricing } from './trainer-backend.js';
export {
  Registry,
  createProviderRegistry,
  parseModelName,
  type LanguageModelFactory,
  type ModelName,
  type ParseModelNameOptions,
  type ProviderRegistry,
  type RegistryFactory,
} from './registry.js';

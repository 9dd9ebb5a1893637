/**
 * prompt2model: turn a task prompt into a small trained model.
 *
 * The curated public API: the Pipeline and its factory, each stage's default implementation, the
 * providers, the registries, the artifact schemas and the errors. Everything else stays in the
 * stage packages (`@prompt2model/<stage>`) for research code that needs a helper. Test doubles
 * (mock models, loopback servers, tiny ONNX builders) are under `prompt2model/testing`; the CLI's
 * embeddable entry under `prompt2model/cli`.
 */

// The pipeline.
export { createPipeline, type CreatePipelineOptions } from './create-pipeline.js';
export { Pipeline, PIPELINE_STEPS, createStageContext, runStep, RunStore } from '@prompt2model/core';
export type { PipelineOptions, PipelineResult, PipelineStages, StageContext, CreateStageContextOptions } from '@prompt2model/core';

// Registries: model names (provider:model), training backends, stage implementations, executors.
export {
  createModelRegistry,
  createExecutor,
  trainingBackends,
  stageImplementations,
  DEFAULT_MODEL_PROVIDER,
  MODEL_PROVIDERS,
  type ExecutorSettings,
  type ModelProviderSettings,
  type StageImplementationNames,
  type TrainingBackendSettings,
} from './registry/index.js';
export { Registry, createProviderRegistry, parseModelName, type ModelName, type ProviderRegistry } from '@prompt2model/core';

// Stages: interfaces (core) and their default implementations (one factory each).
export type {
  PromptParser,
  DatasetRetriever,
  DatasetGenerator,
  ModelRetriever,
  Trainer,
  TrainerBackend,
  Executor,
  Evaluator,
  DemoCreator,
  ExecutionStats,
  Prediction,
  TrainingEvent,
  DataFormatRules,
  TrainingPricing,
} from '@prompt2model/core';
export { createPromptParser, DeepLTranslator, type PromptParserOptions, type PromptParseResult } from '@prompt2model/prompt-parser';
export { createDatasetGenerator, batchGeneratorOptions, type PromptBasedDatasetGeneratorOptions, type GenerationSummary, type LabelNoiseSummary } from '@prompt2model/dataset-generator';
export { createDatasetRetriever, DatasetIndex, buildDatasetIndexFromHub, loadDatasetRows, type DatasetRetrieverConfig, type RankedDataset, type RetrievedDataset } from '@prompt2model/dataset-retriever';
export { createModelRetriever, ModelIndex, buildIndexFromHub, fetchHubModelCards, writeModelCardsJsonl, type ModelRetrieverConfig, type RankedModel } from '@prompt2model/model-retriever';
export { createTrainer, LocalBackend, CommandBackend, WorkerExecutor, parseTrainingJob, estimateTrainingCost, type TrainingBackend } from '@prompt2model/trainer';
export {
  createEvaluator,
  LanguageModelExecutor,
  OnnxExecutor,
  computeMetrics,
  compareTeacherStudent,
  scorePredictions,
  exactMatch,
  chrF,
  squadF1,
  bertScore,
  type EvaluatorOptions,
  type MetricName,
} from '@prompt2model/evaluator';
export {
  createDemoCreator,
  startDemoServer,
  exportStaticDemo,
  type DemoCreatorOptions,
  type WebDemo,
  type DemoServer,
  type DemoServerOptions,
  type StaticExportOptions,
  type StaticExportResult,
} from '@prompt2model/demo';

// Language models and providers.
export { LanguageModelClient, RequestScheduler, LLMCallCache, CostLedger, ProgressEmitter } from '@prompt2model/core';
export type { LanguageModel, LanguageModelRequest, LanguageModelResponse, ProgressEvent, RequestSchedulerOptions } from '@prompt2model/core';
export { createOpenAI, openai, OpenAIBatchLanguageModel, createOpenAIBatchTeacher, createOpenAIFineTuningBackend, type OpenAIProviderSettings } from '@prompt2model/openai';
export { createHuggingFace, fetchHubModels, listHubModels, downloadModelCard, listHubDatasets, getDatasetSplits, getDatasetSize, GatedDatasetError, type HuggingFaceProviderSettings } from '@prompt2model/huggingface';

// Artifacts: schemas (zod) and their types, JSON Lines files.
export {
  ExampleSchema,
  PromptSpecSchema,
  DatasetSplitsSchema,
  ModelCandidateSchema,
  TrainingJobSpecSchema,
  TrainedModelSchema,
  EvalReportSchema,
  RunManifestSchema,
  readJsonl,
  readJsonlAll,
  JsonlWriter,
} from '@prompt2model/core';
export type { Example, PromptSpec, DatasetSplits, ModelCandidate, TrainingJobSpec, TrainingJobSpecInput, TrainedModel, EvalReport, TaskType } from '@prompt2model/core';

// Settings and errors.
export { loadSetting, loadApiKey, SETTINGS } from '@prompt2model/core';
export {
  Prompt2ModelError,
  APICallError,
  ValidationError,
  BudgetExceededError,
  AbortError,
  LoadSettingError,
  NoSuchEntryError,
} from '@prompt2model/core';

// The run report and the whole-run estimate (what `prompt2model run` writes and prints).
export { buildRunReport, writeRunReport, type RunReport } from './run/report.js';
export { estimateRun, formatRunEstimate, type RunEstimate, type StageEstimate } from './run/estimate.js';
export { defaultLLMCacheDir } from '@prompt2model/core';

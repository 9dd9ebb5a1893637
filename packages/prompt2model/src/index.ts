/**
 * prompt2model: turn a task prompt into a small trained model.
 *
 * The curated public API, at most 60 runtime names (test/public-surface.test.ts lists them): the
 * Pipeline and its factory, each stage's default implementation, the providers, the registries, the
 * executors and metrics a report needs, the artifact schemas and the errors. The stage packages
 * (`@prompt2model/<stage>`) hold the rest, and their `/internal` entries the mechanisms. Test doubles
 * are the separate `@prompt2model/testing` package (also reachable as `prompt2model/testing` once it
 * is installed); the CLI's embeddable entry is `prompt2model/cli`.
 */

// The pipeline.
export { createPipeline, type CreatePipelineOptions } from './create-pipeline.js';
export { Pipeline, createStageContext } from '@prompt2model/core';
// The model home: where a run's trained model is and in which formats, and the run folder's file names.
export { locateModel, RUN_FILES } from '@prompt2model/core';
export type { ModelFormat, ModelLocation } from '@prompt2model/core';
export type { PipelineOptions, PipelineResult, PipelineStages, StageContext, CreateStageContextOptions } from '@prompt2model/core';

// Registries: model names (provider:model), training backends, stage implementations, executors.
export {
  createModelRegistry,
  createExecutor,
  trainingBackends,
  stageImplementations,
  type ExecutorSettings,
  type ModelProviderSettings,
  type StageImplementationNames,
  type TrainingBackendSettings,
} from './registry/index.js';
export { parseModelName, type ModelName, type ProviderRegistry } from '@prompt2model/core';

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
export { createPromptParser, createDeepLTranslator, type PromptParserOptions, type PromptParseResult } from '@prompt2model/prompt-parser';
export { createDatasetGenerator, type PromptBasedDatasetGeneratorOptions, type GenerationSummary, type LabelNoiseSummary } from '@prompt2model/dataset-generator';
export { createDatasetRetriever, buildDatasetIndexFromHub, type DatasetRetrieverConfig, type RankedDataset, type RetrievedDataset } from '@prompt2model/dataset-retriever';
export { createModelRetriever, buildIndexFromHub, type ModelRetrieverConfig, type RankedModel } from '@prompt2model/model-retriever';
export { createTrainer, LocalBackend, CommandBackend } from '@prompt2model/trainer';
export {
  createEvaluator,
  LanguageModelExecutor,
  OnnxExecutor,
  computeMetrics,
  compareTeacherStudent,
  scorePredictions,
  createCascade,
  type CascadeOptions,
  type CascadePrediction,
  type CascadeCounts,
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
export { createOpenAI, openai, createOpenAIBatchTeacher, createOpenAIFineTuningBackend, type OpenAIProviderSettings } from '@prompt2model/openai';
export { createHuggingFace, GatedDatasetError, type HuggingFaceProviderSettings } from '@prompt2model/huggingface';

// Artifacts: schemas (zod) and their types, JSON Lines files.
export { ExampleSchema, PromptSpecSchema, TrainedModelSchema, EvalReportSchema, readJsonl, readJsonlAll, JsonlWriter } from '@prompt2model/core';
export type { Example, PromptSpec, DatasetSplits, ModelCandidate, TrainingJobSpec, TrainingJobSpecInput, TrainedModel, EvalReport, TaskType } from '@prompt2model/core';

// Errors.
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

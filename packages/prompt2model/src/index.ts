/**
 * prompt2model: turn a task prompt into a small trained model. This package re-exports every
 * stage package and the Pipeline, and ships the `prompt2model` CLI.
 */
export * from '@prompt2model/core';
export * from '@prompt2model/openai';
export * from '@prompt2model/huggingface';
export * from '@prompt2model/prompt-parser';
export * from '@prompt2model/dataset-generator';
export * from '@prompt2model/model-retriever';
export * from '@prompt2model/dataset-retriever';
export * from '@prompt2model/trainer';
export * from '@prompt2model/evaluator';
export { createPipeline, type CreatePipelineOptions } from './create-pipeline.js';
export { runCli, createProgram } from './program.js';
export { CliRuntime, CliUsageError, EXIT, parseSize, parseNumber, type CliIO, type GlobalOptions } from './runtime.js';
export type { RegisterCommand } from './commands/index.js';

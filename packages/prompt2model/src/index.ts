/**
 * prompt2model: turn a task prompt into a small trained model. This package re-exports every
 * stage package and the Pipeline, and ships the `prompt2model` CLI.
 */
export * from '@prompt2model/core';
export * from '@prompt2model/openai';
export { runCli, createProgram } from './program.js';
export { CliRuntime, CliUsageError, EXIT, parseSize, parseNumber, type CliIO, type GlobalOptions } from './runtime.js';
export type { RegisterCommand } from './commands/index.js';

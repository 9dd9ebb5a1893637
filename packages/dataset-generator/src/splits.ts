// Streaming train/validation/test splitting lives in core, shared by the Pipeline and the CLI.
export { splitDatasetFiles, type SplitDatasetFilesOptions, type SplitSource } from '@prompt2model/core/internal';

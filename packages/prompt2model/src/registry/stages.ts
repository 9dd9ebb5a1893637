import { Registry, type DatasetGenerator, type DatasetRetriever, type DemoCreator, type Evaluator, type ModelRetriever, type PromptParser, type Trainer, type TrainerBackend } from '@prompt2model/core/internal';
import { createDatasetGenerator, type PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator/internal';
import { createDatasetRetriever, type DatasetRetrieverConfig } from '@prompt2model/dataset-retriever/internal';
import { createDemoCreator, type DemoCreatorOptions } from '@prompt2model/demo/internal';
import { createEvaluator, type EvaluatorOptions } from '@prompt2model/evaluator/internal';
import { createModelRetriever, type ModelRetrieverConfig } from '@prompt2model/model-retriever/internal';
import { createPromptParser, type PromptParserOptions } from '@prompt2model/prompt-parser/internal';
import { createTrainer, LocalBackend, type CreateTrainerOptions } from '@prompt2model/trainer/internal';

/**
 * Stage implementations by name, in the same kind of table as providers and training backends.
 * `default` is what `createPipeline` uses unless told otherwise; adding an implementation is one
 * file in the stage's package and one entry here (docs/contributing/add-a-stage.md). Factories are
 * synchronous, so `createPipeline` stays synchronous.
 */
export const stageImplementations = {
  promptParser: new Registry<PromptParser, PromptParserOptions | undefined>('prompt parser', {
    default: { description: 'deterministic layouts first, the teacher LLM otherwise, DeepL for non-English instructions', factory: (options) => createPromptParser(options) },
  }),
  datasetRetriever: new Registry<DatasetRetriever, DatasetRetrieverConfig | undefined>('dataset retriever', {
    default: { description: 'BM25 (+ HyDE) over Hugging Face dataset descriptions, teacher rerank and column mapping, rows via the dataset viewer', factory: (options) => createDatasetRetriever(options) },
  }),
  datasetGenerator: new Registry<DatasetGenerator, PromptBasedDatasetGeneratorOptions | undefined>('dataset generator', {
    default: { description: 'prompt-based generation with self-consistency labels', factory: (options) => createDatasetGenerator(options) },
  }),
  modelRetriever: new Registry<ModelRetriever, ModelRetrieverConfig | undefined>('model retriever', {
    default: { description: 'HyDE + BM25 over Hugging Face model cards', factory: (options) => createModelRetriever(options) },
  }),
  trainer: new Registry<Trainer, { backend?: TrainerBackend; exportOnnx?: CreateTrainerOptions['exportOnnx'] } | undefined>('trainer', {
    default: {
      description: 'job spec → validated data → estimate → a training backend (→ ONNX export of local models)',
      factory: (options) => createTrainer({ backend: options?.backend ?? new LocalBackend(), ...(options?.exportOnnx !== undefined ? { exportOnnx: options.exportOnnx } : {}) }),
    },
  }),
  evaluator: new Registry<Evaluator, EvaluatorOptions | undefined>('evaluator', {
    default: { description: 'exact match, chrF++, SQuAD F1, BERTScore over an executor', factory: (options) => createEvaluator(options) },
  }),
  demoCreator: new Registry<DemoCreator, DemoCreatorOptions | undefined>('demo creator', {
    default: { description: 'a page and HTTP API for the trained model on 127.0.0.1, run by the evaluator\'s executors', factory: (options) => createDemoCreator(options) },
  }),
};

export type StageImplementationNames = { [K in keyof typeof stageImplementations]?: string };

import { Pipeline, type LanguageModel, type PipelineOptions, type PipelineStages } from '@prompt2model/core';
import { ContaminationIndex, createDatasetGenerator, type PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator';
import { createDatasetRetriever, type DatasetRetrieverConfig } from '@prompt2model/dataset-retriever';
import { createEvaluator, type EvaluatorOptions } from '@prompt2model/evaluator';
import { createModelRetriever, type ModelRetrieverConfig } from '@prompt2model/model-retriever';
import { createOpenAI } from '@prompt2model/openai';
import { createPromptParser, type PromptParserOptions } from '@prompt2model/prompt-parser';
import { createTrainer, LocalBackend, workerExecutorFor, type TrainingBackend, type WorkerExecutorOptions } from '@prompt2model/trainer';

export interface CreatePipelineOptions extends Omit<PipelineOptions, 'stages' | 'teacher'> {
  /** The teacher LLM: any LanguageModel, or a model id for the OpenAI-compatible endpoint in OPENAI_BASE_URL. */
  teacher?: LanguageModel | string;
  /** Replace any stage with your own object, or `null` to skip it; the rest get the defaults. */
  stages?: Partial<PipelineStages>;
  /** Options of the default stages. */
  stageOptions?: {
    promptParser?: PromptParserOptions;
    datasetGenerator?: PromptBasedDatasetGeneratorOptions;
    /** The default dataset retriever (Hugging Face datasets): index, Hub, HyDE, rerank, columns, rows. */
    datasetRetriever?: DatasetRetrieverConfig;
    modelRetriever?: ModelRetrieverConfig;
    evaluator?: EvaluatorOptions;
    /** How locally trained PyTorch models are run for evaluation (the Python predict worker). */
    predict?: WorkerExecutorOptions;
  };
  /** Where the default trainer runs: default the local Python worker (transformers + peft). */
  trainerBackend?: TrainingBackend;
}

/**
 * The Prompt2Model pipeline with the default stage of every package: prompt parser, dataset
 * generator, dataset retriever (Hugging Face datasets: BM25 + HyDE, rerank, teacher column
 * mapping; its rows go to train only, decontaminated against the test split), model retriever
 * (HyDE + BM25), trainer (local worker unless you pass another backend) and evaluator. The demo
 * has no default yet: pass your own.
 */
export function createPipeline(options: CreatePipelineOptions): Pipeline {
  const { teacher, stages = {}, stageOptions = {}, trainerBackend, ...rest } = options;
  const teacherModel = typeof teacher === 'string' ? createOpenAI()(teacher) : teacher;
  const pick = <K extends keyof PipelineStages>(key: K, fallback: () => PipelineStages[K]): PipelineStages[K] =>
    stages[key] === undefined ? fallback() : (stages[key] as PipelineStages[K]);
  return new Pipeline({
    contamination: (testSet) => new ContaminationIndex(testSet),
    ...rest,
    ...(teacherModel ? { teacher: teacherModel } : {}),
    stages: {
      promptParser: stages.promptParser ?? createPromptParser(stageOptions.promptParser),
      datasetRetriever: pick('datasetRetriever', () => createDatasetRetriever(stageOptions.datasetRetriever)),
      datasetGenerator: pick('datasetGenerator', () => createDatasetGenerator(stageOptions.datasetGenerator)),
      modelRetriever: pick('modelRetriever', () => createModelRetriever(stageOptions.modelRetriever)),
      trainer: pick('trainer', () => createTrainer({ backend: trainerBackend ?? new LocalBackend() })),
      evaluator: pick('evaluator', () =>
        createEvaluator({
          // Managed fine-tunes (ft:...) are called like any OpenAI model; local PyTorch folders go
          // through the Python predict worker, ONNX exports through the ONNX runtime.
          languageModelFor: (id) => createOpenAI()(id),
          executorFor: workerExecutorFor(stageOptions.predict),
          ...stageOptions.evaluator,
        }),
      ),
      demoCreator: pick('demoCreator', () => null),
    },
  });
}

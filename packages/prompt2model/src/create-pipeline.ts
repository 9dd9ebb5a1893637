import { Pipeline, type LanguageModel, type PipelineOptions, type PipelineStages } from '@prompt2model/core';
import { createDatasetGenerator, type PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator';
import { createDemoCreator, type DemoCreatorOptions } from '@prompt2model/demo';
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
    modelRetriever?: ModelRetrieverConfig;
    evaluator?: EvaluatorOptions;
    /** How locally trained PyTorch models are run for evaluation (the Python predict worker). */
    predict?: WorkerExecutorOptions;
    /** The demo server (host, port, access token, limits, keepAlive). */
    demo?: DemoCreatorOptions;
  };
  /** Where the default trainer runs: default the local Python worker (transformers + peft). */
  trainerBackend?: TrainingBackend;
}

/**
 * The Prompt2Model pipeline with the default stage of every package: prompt parser, dataset
 * generator, model retriever (HyDE + BM25), trainer (local worker unless you pass another
 * backend), evaluator and demo (a local web page for the trained model: `result.demo.url`; it
 * serves while the process runs, or until `result.demo.close()`). Dataset retrieval has no default yet.
 */
export function createPipeline(options: CreatePipelineOptions): Pipeline {
  const { teacher, stages = {}, stageOptions = {}, trainerBackend, ...rest } = options;
  const teacherModel = typeof teacher === 'string' ? createOpenAI()(teacher) : teacher;
  const pick = <K extends keyof PipelineStages>(key: K, fallback: () => PipelineStages[K]): PipelineStages[K] =>
    stages[key] === undefined ? fallback() : (stages[key] as PipelineStages[K]);
  return new Pipeline({
    ...rest,
    ...(teacherModel ? { teacher: teacherModel } : {}),
    stages: {
      promptParser: stages.promptParser ?? createPromptParser(stageOptions.promptParser),
      datasetRetriever: pick('datasetRetriever', () => null),
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
      demoCreator: pick('demoCreator', () =>
        createDemoCreator({
          // The same executors as evaluation, so the page answers as the evaluation scored.
          languageModelFor: (id) => createOpenAI()(id),
          executorFor: workerExecutorFor({ ...stageOptions.predict, stage: 'demo' }),
          ...stageOptions.demo,
        }),
      ),
    },
  });
}

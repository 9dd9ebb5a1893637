import { Pipeline, type Evaluator, type LanguageModel, type PipelineOptions, type PipelineStages } from '@prompt2model/core';
import { createDatasetGenerator, type PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator';
import { createEvaluator, type EvaluatorOptions } from '@prompt2model/evaluator';
import { createModelRetriever, type ModelRetrieverConfig } from '@prompt2model/model-retriever';
import { createOpenAI } from '@prompt2model/openai';
import { createPromptParser, type PromptParserOptions } from '@prompt2model/prompt-parser';
import { createTrainer, LocalBackend, modelCardInputFromRun, writeModelCard, workerExecutorFor, type CreateTrainerOptions, type TrainingBackend, type WorkerExecutorOptions } from '@prompt2model/trainer';

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
  };
  /** Where the default trainer runs: default the local Python worker (transformers + peft). */
  trainerBackend?: TrainingBackend;
  /** The ONNX export after local training (default fp32 + q8); `false` keeps only the PyTorch folder. */
  exportOnnx?: CreateTrainerOptions['exportOnnx'];
}

/**
 * The Prompt2Model pipeline with the default stage of every package: prompt parser, dataset
 * generator, model retriever (HyDE + BM25), trainer (local worker unless you pass another
 * backend) and evaluator. Dataset retrieval and the demo have no default yet: pass your own.
 */
export function createPipeline(options: CreatePipelineOptions): Pipeline {
  const { teacher, stages = {}, stageOptions = {}, trainerBackend, exportOnnx = { quantize: 'q8' }, ...rest } = options;
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
      // Local training ends with an ONNX export (fp32 + q8), so evaluation and the demo need no Python.
      trainer: pick('trainer', () => createTrainer({ backend: trainerBackend ?? new LocalBackend(), exportOnnx })),
      evaluator: pick('evaluator', () =>
        withModelCard(createEvaluator({
          // Managed fine-tunes (ft:...) are called like any OpenAI model; local PyTorch folders go
          // through the Python predict worker, ONNX exports through the ONNX runtime.
          languageModelFor: (id) => createOpenAI()(id),
          executorFor: workerExecutorFor(stageOptions.predict),
          ...stageOptions.evaluator,
        })),
      ),
      demoCreator: pick('demoCreator', () => null),
    },
  });
}

/** The evaluator, and then the trained model's card rewritten with the measured test metrics. */
function withModelCard(evaluator: Evaluator): Evaluator {
  return {
    specificationVersion: evaluator.specificationVersion,
    name: evaluator.name,
    async evaluate(request, context) {
      const report = await evaluator.evaluate(request, context);
      if (request.model.kind === 'local-folder') {
        await writeModelCard(await modelCardInputFromRun(context.store.dir, request.model, { evaluation: report, spec: request.spec })).catch((error: unknown) =>
          context.events.log('warn', `Could not update the model card: ${(error as Error).message}`, 'evaluate'),
        );
      }
      return report;
    },
  };
}

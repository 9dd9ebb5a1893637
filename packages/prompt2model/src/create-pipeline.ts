import { defaultLLMCacheDir, Pipeline, type CalibrateRequest, type Evaluator, type LanguageModel, type PipelineOptions, type PipelineStages, type StageContext, type TrainedModel, type TrainerBackend } from '@prompt2model/core/internal';
import { ContaminationIndex, type PromptBasedDatasetGeneratorOptions } from '@prompt2model/dataset-generator/internal';
import type { DatasetRetrieverConfig } from '@prompt2model/dataset-retriever/internal';
import type { DemoCreatorOptions } from '@prompt2model/demo/internal';
import type { EvaluatorOptions } from '@prompt2model/evaluator/internal';
import type { ModelRetrieverConfig } from '@prompt2model/model-retriever/internal';
import type { PromptParserOptions } from '@prompt2model/prompt-parser/internal';
import { LocalBackend, modelCardInputFromRun, workerExecutors, writeModelCard, type CreateTrainerOptions, type ModelCardInput, type WorkerExecutorOptions } from '@prompt2model/trainer/internal';
import { pipelinePreflightChecks, runPreflight } from './run/preflight.js';
import { createModelRegistry, type ModelProviderSettings } from './registry/model-providers.js';
import { stageImplementations, type StageImplementationNames } from './registry/stages.js';

export interface CreatePipelineOptions extends Omit<PipelineOptions, 'stages' | 'teacher' | 'preflight'> {
  /** The teacher LLM: any LanguageModel, or a model name (`openai:gpt-4o-mini`, `hf:<id>`, a bare id for OPENAI_BASE_URL's endpoint). */
  teacher?: LanguageModel | string;
  /** Settings of the model providers that model names resolve through (default: the environment). */
  providers?: ModelProviderSettings;
  /** Which registered implementation each default stage uses (default `default`). */
  implementations?: StageImplementationNames;
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
    /** The demo server (host, port, access token, limits, keepAlive), when `demo: true`. */
    demo?: DemoCreatorOptions;
  };
  /**
   * End the run with a local web demo of the trained model (`result.demo.url`; it serves until
   * `result.demo.close()`). Default false: a library run starts no server unless asked.
   */
  demo?: boolean;
  /**
   * Before the first paid call, check what the CLI's `run` checks: the run folder is writable, the
   * teacher's key and endpoint answer, the local model index is readable, the training backend is
   * usable and its data rules can be met. Default true.
   */
  preflight?: boolean;
  /** Where the default trainer runs: default the local Python worker (transformers + peft). */
  trainerBackend?: TrainerBackend;
  /** The ONNX export after local training (default fp32 + q8); `false` keeps only the PyTorch folder. */
  exportOnnx?: CreateTrainerOptions['exportOnnx'];
}

/**
 * The Prompt2Model pipeline with the default stage of every package: prompt parser, dataset
 * generator, dataset retriever (Hugging Face datasets: BM25 + HyDE, rerank, teacher column
 * mapping; its rows go to train only, decontaminated against the test split), model retriever
 * (HyDE + BM25), trainer (local worker unless you pass another backend) and evaluator; with
 * `demo: true`, a local web page for the trained model. Like the CLI, it caches teacher calls in
 * the user's cache folder (`~/.cache/prompt2model/llm`, or `$P2M_CACHE_DIR/llm`) and runs the
 * CLI's preflight checks before the first paid call.
 */
export function createPipeline(options: CreatePipelineOptions): Pipeline {
  const { teacher, stages = {}, stageOptions = {}, trainerBackend, providers, implementations = {}, exportOnnx = { quantize: 'q8' }, demo = false, preflight = true, ...rest } = options;
  const models = createModelRegistry(providers);
  const teacherModel = typeof teacher === 'string' ? models.languageModel(teacher) : teacher;
  // The default trainer's backend, made here so preflight checks the very object that trains.
  const backend = trainerBackend ?? new LocalBackend();
  const checks = () => {
    const retrieval = stages.modelRetriever === undefined && !rest.training?.baseModel;
    const index = stageOptions.modelRetriever?.index;
    return pipelinePreflightChecks({
      outDir: rest.outDir,
      ...(teacherModel ? { teacher: teacherModel } : {}),
      ...(retrieval && typeof index === 'string' ? { modelIndex: index } : {}),
      ...(stages.trainer === undefined ? { training: { backend, numExamples: rest.numExamples ?? 200, ...(rest.split ? { split: rest.split } : {}) } } : {}),
    });
  };
  const implementation = (key: keyof typeof stageImplementations) => implementations[key] ?? 'default';
  const pick = <K extends keyof PipelineStages>(key: K, fallback: () => PipelineStages[K]): PipelineStages[K] =>
    stages[key] === undefined ? fallback() : (stages[key] as PipelineStages[K]);
  return new Pipeline({
    contamination: (testSet) => new ContaminationIndex(testSet),
    // One LLM call cache in the user's cache folder, as the CLI: a new run folder pays nothing twice.
    cacheDir: defaultLLMCacheDir(),
    ...(preflight ? { preflight: (signal: AbortSignal) => runPreflight(checks(), signal) } : {}),
    ...rest,
    ...(teacherModel ? { teacher: teacherModel } : {}),
    stages: {
      promptParser: stages.promptParser ?? stageImplementations.promptParser.create(implementation('promptParser'), stageOptions.promptParser),
      datasetRetriever: pick('datasetRetriever', () => stageImplementations.datasetRetriever.create(implementation('datasetRetriever'), stageOptions.datasetRetriever)),
      datasetGenerator: pick('datasetGenerator', () => stageImplementations.datasetGenerator.create(implementation('datasetGenerator'), stageOptions.datasetGenerator)),
      modelRetriever: pick('modelRetriever', () => stageImplementations.modelRetriever.create(implementation('modelRetriever'), stageOptions.modelRetriever)),
      // Local training ends with an ONNX export (fp32 + q8), so evaluation and the demo need no Python.
      trainer: pick('trainer', () => stageImplementations.trainer.create(implementation('trainer'), { backend, exportOnnx })),
      evaluator: pick('evaluator', () => defaultEvaluator({ models, implementation: implementation('evaluator'), ...(stageOptions.predict ? { predict: stageOptions.predict } : {}), ...(stageOptions.evaluator ? { evaluator: stageOptions.evaluator } : {}) })),
      demoCreator: pick('demoCreator', () =>
        !demo ? null : stageImplementations.demoCreator.create(implementation('demoCreator'), {
          // The same executors as evaluation, so the page answers as the evaluation scored.
          languageModelFor: (id) => models.languageModel(id),
          executors: workerExecutors({ ...stageOptions.predict, stage: 'demo' }),
          ...stageOptions.demo,
        }),
      ),
    },
  });
}

/**
 * The pipeline's evaluator (also `prompt2model calibrate`'s): the registered implementation over the
 * executor table — the evaluator's entries (ONNX exports in Node; managed fine-tunes, ft:..., called
 * like any OpenAI model) plus the trainer's Python worker for PyTorch folders — and the model card
 * rewritten after evaluation and calibration.
 */
export function defaultEvaluator(options: { models: ReturnType<typeof createModelRegistry>; implementation?: string; predict?: WorkerExecutorOptions; evaluator?: EvaluatorOptions }): Evaluator {
  return withModelCard(
    stageImplementations.evaluator.create(options.implementation ?? 'default', {
      languageModelFor: (id) => options.models.languageModel(id),
      executors: workerExecutors(options.predict),
      ...options.evaluator,
    }),
  );
}

/**
 * The evaluator, and then the trained model's card rewritten with the measured test metrics, and
 * again with the cascade's calibration once it is made.
 */
function withModelCard(evaluator: Evaluator): Evaluator {
  const rewriteCard = async (context: StageContext, model: TrainedModel, extra: Partial<ModelCardInput>, stage: string) => {
    if (model.kind !== 'local-folder') return;
    await writeModelCard(await modelCardInputFromRun(context.store.dir, model, extra)).catch((error: unknown) =>
      context.events.log('warn', `Could not update the model card: ${(error as Error).message}`, stage),
    );
  };
  const calibrate = evaluator.calibrate?.bind(evaluator);
  return {
    specificationVersion: evaluator.specificationVersion,
    name: evaluator.name,
    async evaluate(request, context) {
      const report = await evaluator.evaluate(request, context);
      await rewriteCard(context, request.model, { evaluation: report, spec: request.spec }, 'evaluate');
      return report;
    },
    // The teacher baseline passes through unchanged (the report's teacher-vs-student table).
    ...(evaluator.evaluateTeacher ? { evaluateTeacher: evaluator.evaluateTeacher.bind(evaluator) } : {}),
    ...(calibrate
      ? {
          async calibrate(request: CalibrateRequest, context: StageContext) {
            const calibration = await calibrate(request, context);
            await rewriteCard(context, request.model, { calibration, spec: request.spec }, 'calibrate');
            return calibration;
          },
        }
      : {}),
  };
}

import { rename, rm } from 'node:fs/promises';
import type { z } from 'zod';
import { createStageContext, type CreateStageContextOptions, type StageContext } from './context.js';
import { ProgressEmitter } from './events.js';
import { BudgetExceededError } from './errors/budget-exceeded-error.js';
import { Prompt2ModelError } from './errors/prompt2model-error.js';
import { ConfidenceUnavailableError } from './errors/confidence-unavailable-error.js';
import { InsufficientDataError } from './errors/insufficient-data-error.js';
import { hashableOptions } from './util/fingerprint.js';
import { loadZod } from './util/lazy-zod.js';
import { JsonlWriter } from './jsonl.js';
import {
  DatasetSplitsSchema,
  EvalReportSchema,
  ModelCandidateSchema,
  PromptSpecSchema,
  TrainedModelSchema,
  TrainingJobSpecSchema,
  type DatasetSplits,
  type EvalReport,
  type Example,
  type ModelCandidate,
  type PromptSpec,
  type TrainedModel,
  type TrainingJobSpecInput,
} from './schemas.js';
import { splitDatasetFiles, type SplitRatios } from './splits.js';
import { CascadeCalibrationSchema, GenerationSummaryFileSchema, RetrievedSummarySchema, type CascadeCalibration, type GenerationSummaryFile } from './run-folder/files.js';
import { RUN_FILES } from './run-folder/layout.js';
import { portableTrainedModel, portableTrainingJob, trainedModelFile } from './run-folder/portable.js';
import { fingerprintOf, runStep, type StepOptions } from './run-step.js';

import { trainedModelPaths } from './trained-model-paths.js';
export { runStep, fingerprintOf, findDamagedOutputs, type StepOptions } from './run-step.js';
import type {
  DatasetGenerator,
  DatasetRetriever,
  Demo,
  DemoCreator,
  Evaluator,
  ModelRetriever,
  PromptParser,
  Trainer,
} from './stages.js';

/** Each stage: your own object, or `null` to skip it. */
export interface PipelineStages {
  promptParser: PromptParser;
  datasetRetriever: DatasetRetriever | null;
  datasetGenerator: DatasetGenerator | null;
  modelRetriever: ModelRetriever | null;
  trainer: Trainer | null;
  evaluator: Evaluator | null;
  demoCreator: DemoCreator | null;
}

export interface PipelineOptions extends CreateStageContextOptions {
  stages: Partial<PipelineStages> & Pick<PipelineStages, 'promptParser'>;
  /** Generated examples to aim for. Default 200. */
  numExamples?: number;
  /** Most retrieved examples to use. Default 1000. */
  maxRetrievedExamples?: number;
  split?: SplitRatios;
  /** Training settings; `baseModel` defaults to the top retrieved candidate. */
  training?: Partial<TrainingJobSpecInput>;
  topKModels?: number;
  /**
   * Options of each step's implementation that shape its output (the CLI passes the stage options),
   * by step name; fingerprinted into the step's inputs, so changing one redoes that step.
   */
  stepInputs?: Partial<Record<(typeof PIPELINE_STEPS)[number], unknown>>;
  /** Training stops with a clear error below this share of `numExamples` generated. Default 0.5. */
  minExampleShare?: number;
  /** Train on whatever was generated, however few (CLI: --accept-fewer-examples). */
  acceptFewerExamples?: boolean;
  /** Also run the teacher over the test set, for the teacher-vs-student comparison. Default true. */
  teacherBaseline?: boolean;
  /**
   * After evaluation, calibrate the student→teacher cascade on the validation split (held out from
   * training: it only picks the checkpoint): one teacher call per validation row, through the LLM
   * cache. `false` skips it. Default: on, keeping 99% of the teacher's quality.
   */
  calibration?: false | { targetQuality?: number };
  /**
   * Decontamination of retrieved rows against the test split (e.g. dataset-generator's
   * `ContaminationIndex`): retrieved rows go to train only, and those the check flags are dropped.
   */
  contamination?: (testSet: readonly Example[]) => { isContaminated(example: Example): boolean };
  /**
   * Checks that every later stage can do its job (teacher reachable, training backend usable, run
   * folder writable), run at the start of each `run()`, before the first paid call; a failure
   * stops the run with its error. `createPipeline` passes the CLI's checks.
   */
  preflight?: (signal: AbortSignal) => Promise<void>;
}

export interface PipelineResult {
  outDir: string;
  spec: PromptSpec;
  retrievedCount?: number;
  generatedCount?: number;
  splits?: DatasetSplits;
  candidates?: ModelCandidate[];
  trainedModel?: TrainedModel;
  evalReport?: EvalReport;
  /** The teacher on the same test set (the baseline the student is compared with). */
  teacherReport?: EvalReport;
  /** The cascade's coverage-quality curve and chosen threshold, on the validation split. */
  calibration?: CascadeCalibration;
  /** A running demo; call `close()` when done. */
  demo?: Demo;
  costUsd: number;
}


/** Names of the pipeline's steps, as recorded in the run manifest. */
export const PIPELINE_STEPS = ['parse', 'retrieve-datasets', 'generate', 'split', 'retrieve-models', 'train', 'evaluate', 'evaluate-teacher', 'calibrate'] as const;

/**
 * Composes the stages into one resumable run: prompt → spec → data (retrieved + generated) →
 * splits → base model → training → evaluation → demo. Each step's output is an artifact in the run
 * folder; running again with the same `outDir` skips finished steps and resumes the unfinished one.
 */
export class Pipeline {
  /** Progress events of every run of this pipeline: subscribe with `pipeline.events.on(...)`. */
  readonly events: ProgressEmitter;

  constructor(readonly options: PipelineOptions) {
    this.events = options.events ?? new ProgressEmitter();
  }

  async run(prompt: string): Promise<PipelineResult> {
    const { stages } = this.options;
    await this.options.preflight?.(this.options.signal ?? new AbortController().signal);
    const context = await createStageContext({ ...this.options, events: this.events });
    const step = <T>(name: string, artifact: string, schema: z.ZodType<T>, compute: () => Promise<T>, options?: StepOptions<T>) =>
      runStep(context, name, artifact, schema, compute, options);
    const extra = (name: (typeof PIPELINE_STEPS)[number]) => hashableOptions(this.options.stepInputs?.[name]);
    const teacher = context.teacher
      ? { provider: context.teacher.model.provider, model: context.teacher.modelId, endpoint: context.teacher.model.endpoint }
      : null;
    const file = (name: string) => fingerprintOf(context, name);

    const spec = await step('parse', RUN_FILES.promptSpec, PromptSpecSchema, () => stages.promptParser.parse(prompt, context), {
      inputs: { prompt, parser: stages.promptParser.name, teacher, options: extra('parse') },
    });
    const result: PipelineResult = { outDir: context.store.dir, spec, costUsd: 0 };

    const datasetRetriever = stages.datasetRetriever;
    const maxRetrieved = this.options.maxRetrievedExamples ?? 1000;
    const retrieved = datasetRetriever
      ? await step(
          'retrieve-datasets',
          RUN_FILES.retrievedSummary,
          RetrievedSummarySchema,
          async () => {
            const examples = await datasetRetriever.retrieve(spec, { maxExamples: maxRetrieved }, context);
            await writeJsonl(context.store.path(RUN_FILES.retrieved), examples);
            return { count: examples.length };
          },
          { inputs: { spec, retriever: datasetRetriever.name, maxRetrieved, teacher, options: extra('retrieve-datasets') }, outputs: [RUN_FILES.retrieved] },
        )
      : undefined;
    result.retrievedCount = retrieved?.count;

    const datasetGenerator = stages.datasetGenerator;
    const numExamples = this.options.numExamples ?? 200;
    let generated: GenerationSummaryFile | undefined;
    if (datasetGenerator) {
      const outputs = [RUN_FILES.dataset, RUN_FILES.datasetProgress];
      const generateStep = () =>
        step<GenerationSummaryFile>(
          'generate',
          RUN_FILES.generationSummary,
          GenerationSummaryFileSchema,
          async () => {
            const output = await datasetGenerator.generate(spec, { numExamples, outputPath: context.store.path(RUN_FILES.dataset) }, context);
            return { count: output.count, ...output.summary };
          },
          {
            // The target does not reshape rows already made: a larger one continues the dataset.
            inputs: { spec, generator: datasetGenerator.name, teacher, options: extra('generate'), target: numExamples },
            continuable: ['target'],
            outputs,
            unfinished: (saved) =>
              saved.stoppedBy === 'budget' ? `stopped by the budget cap at ${saved.count} of ${saved.target ?? numExamples} examples` : undefined,
          },
        );
      generated = await generateStep();
      if (generated.count > numExamples) {
        // A smaller target than the saved dataset holds: make it again (its teacher calls are cached).
        context.events.log('info', `generate: the dataset holds ${generated.count} examples, more than the ${numExamples} asked for; regenerating it.`, 'generate');
        await context.store.resetStage('generate');
        for (const name of outputs) await rm(context.store.path(name), { force: true });
        generated = await generateStep();
      }
      result.generatedCount = generated.count;
    }

    // Before anything else is spent (splits, HyDE, training): training on far fewer examples than
    // asked is a decision the user makes, not a silent default; and no data at all is never one.
    if (generated && (stages.trainer || (generated.count === 0 && !retrieved?.count))) this.checkEnoughExamples(generated, numExamples, context);

    if (retrieved || datasetGenerator) {
      const sources = [
        ...(datasetGenerator ? [{ path: context.store.path(RUN_FILES.dataset), source: 'generated' as const, file: RUN_FILES.dataset }] : []),
        ...(retrieved ? [{ path: context.store.path(RUN_FILES.retrieved), source: 'retrieved' as const, file: RUN_FILES.retrieved }] : []),
      ];
      const sourceFingerprints = Object.fromEntries(await Promise.all(sources.map(async (source) => [source.file, await file(source.file)] as const)));
      result.splits = await step(
        'split',
        RUN_FILES.splits,
        DatasetSplitsSchema,
        async () => {
          // Streamed from disk (memory holds input hashes only); inputs repeated across sources are dropped.
          // Retrieved rows train only when generated data makes the test set, and are checked against it.
          const retrievedTrainOnly = retrieved !== undefined && datasetGenerator !== null && datasetGenerator !== undefined;
          const { duplicates, contaminated, ...splits } = await splitDatasetFiles({
            ...this.options.split,
            outDir: context.store.dir,
            sources: sources.map(({ path, source }) => ({ path, source })),
            ...(retrievedTrainOnly ? { trainOnlySources: ['retrieved' as const], ...(this.options.contamination ? { contamination: this.options.contamination } : {}) } : {}),
          });
          if (contaminated > 0) context.events.log('info', `Dropped ${contaminated} retrieved rows that overlap the test set.`, 'split');
          const total = splits.counts.train + splits.counts.validation + splits.counts.test;
          if (total === 0) {
            throw new Prompt2ModelError({ message: 'No training examples were produced.', hint: 'Check the teacher model and the prompt, or enable dataset retrieval.' });
          }
          if (duplicates > 0) context.events.log('info', `Dropped ${duplicates} inputs repeated across retrieved and generated data.`, 'split');
          return splits;
        },
        {
          inputs: { sources: sourceFingerprints, split: this.options.split ?? null, contamination: this.options.contamination ? 'on' : 'off' },
          outputs: [RUN_FILES.train, RUN_FILES.validation, RUN_FILES.test],
        },
      );
    }


    const modelRetriever = stages.modelRetriever;
    const topK = this.options.topKModels ?? 5;
    if (modelRetriever) {
      result.candidates = await step(
        'retrieve-models',
        RUN_FILES.models,
        loadZod().array(ModelCandidateSchema),
        () => modelRetriever.retrieve(spec, { topK }, context),
        { inputs: { spec: { instruction: spec.instruction, examples: spec.examples, taskType: spec.taskType ?? null }, retriever: modelRetriever.name, topK, teacher, options: extra('retrieve-models') } },
      );
    }

    const trainer = stages.trainer;
    if (trainer) {
      const splits = result.splits;
      if (!splits) throw new Prompt2ModelError({ message: 'Training needs data, but both dataset stages are disabled.', hint: 'Enable datasetGenerator or datasetRetriever.' });
      const baseModel = this.options.training?.baseModel ?? result.candidates?.[0]?.id;
      if (!baseModel) {
        throw new Prompt2ModelError({ message: 'No base model to train: model retrieval found none and none was given.', hint: 'Pass a `baseModel` in the training options.' });
      }
      const job = TrainingJobSpecSchema.parse({
        instruction: spec.instruction,
        architecture: result.candidates?.find((c) => c.id === baseModel)?.architecture ?? 'unknown',
        ...this.options.training,
        baseModel,
        data: {
          train: context.store.path(splits.train),
          ...(splits.validation && splits.counts.validation > 0 ? { validation: context.store.path(splits.validation) } : {}),
        },
      });
      const data = { train: await file(splits.train), validation: splits.validation ? await file(splits.validation) : null };
      result.trainedModel = await step('train', RUN_FILES.trainedModel, TrainedModelSchema, () => trainer.train(job, context), {
        // Paths relative to the run folder: a moved or copied folder is the same job, resumed in place.
        inputs: { job: portableTrainingJob(job, context.store.dir), data, trainer: trainer.name, options: extra('train') },
        stored: trainedModelFile(context.store.dir),
        artifactPaths: trainedModelPaths,
      });
    }

    const evaluator = stages.evaluator;
    if (evaluator && result.trainedModel && result.splits && result.splits.counts.test === 0) {
      context.events.log('warn', 'Evaluation skipped: the test split is empty. Generate more examples or raise the test share (split.test).', 'evaluate');
    }
    if (evaluator && result.trainedModel && result.splits?.test && result.splits.counts.test > 0) {
      const model = result.trainedModel;
      const testPath = context.store.path(result.splits.test);
      const testSet = await file(result.splits.test);
      const evalSpec = { instruction: spec.instruction, taskType: spec.taskType ?? null, labels: spec.labels ?? null };
      result.evalReport = await step('evaluate', RUN_FILES.evalReport, EvalReportSchema, () => evaluator.evaluate({ model, testPath, spec }, context), {
        inputs: { model: portableTrainedModel(model, context.store.dir), testSet, spec: evalSpec, evaluator: evaluator.name, options: extra('evaluate') },
      });
      const evaluateTeacher = evaluator.evaluateTeacher?.bind(evaluator);
      if (evaluateTeacher && context.teacher && this.options.teacherBaseline !== false) {
        // The same test set through the teacher: the report's teacher-vs-student table.
        result.teacherReport = await step('evaluate-teacher', RUN_FILES.teacherEvalReport, EvalReportSchema, () => evaluateTeacher({ testPath, spec }, context), {
          inputs: { teacher, testSet, spec: evalSpec, evaluator: evaluator.name, options: extra('evaluate') },
        });
      }
    }

    const calibration = this.options.calibration;
    if (evaluator?.calibrate && calibration !== false && context.teacher && result.trainedModel && result.splits) {
      result.calibration = await calibrationStep(context, {
        evaluator,
        model: result.trainedModel,
        splits: result.splits,
        spec,
        ...(calibration?.targetQuality !== undefined ? { targetQuality: calibration.targetQuality } : {}),
        options: this.options.stepInputs?.calibrate,
        skipWithoutConfidence: true,
      });
    }

    if (stages.demoCreator && result.trainedModel) {
      result.demo = await stages.demoCreator.create(result.trainedModel, spec, context);
    }
    await context.store.saveCost(context.ledger.snapshot());
    result.costUsd = context.ledger.totalUsd;
    return result;
  }

  /**
   * Training never starts silently on far fewer examples than asked: below `minExampleShare` of the
   * target it stops with what happened and the two ways on (more budget, or accept the data).
   */
  private checkEnoughExamples(generated: { count: number; stoppedBy?: string }, target: number, context: StageContext): void {
    const spent = context.ledger.snapshot();
    const maxCostUsd = context.ledger.maxCostUsd;
    const share = this.options.minExampleShare ?? 0.5;
    if (target === 0 || generated.count >= share * target) return;
    if (this.options.acceptFewerExamples && generated.count > 0) return;
    if (generated.stoppedBy === undefined && generated.count > 0) {
      // A generator that does not say why it stopped (your own): warn rather than second-guess it.
      context.events.log('warn', `Only ${generated.count} of the ${target} requested examples were generated; training on them.`, 'generate');
      return;
    }
    const why =
      generated.stoppedBy === 'budget'
        ? 'generation stopped at the budget cap'
        : generated.stoppedBy === 'exhausted'
          ? 'the teacher stopped producing new examples'
          : 'generation stopped early';
    const message =
      generated.count === 0
        ? `No examples were generated (${why}), so there is nothing to train on.`
        : `Only ${generated.count} of the ${target} requested examples were generated (${why}); training on so few would give a weak model, so it was not started.`;
    const accept = generated.count > 0 ? ' Or set `acceptFewerExamples` to train on these.' : '';
    const hint =
      generated.stoppedBy === 'budget'
        ? `Raise \`maxCostUsd\` and rerun the same command: generation continues where it stopped and pays only for the new examples.${accept}`
        : `Add varied examples to the prompt or lower \`numExamples\`, then rerun the same command.${accept}`;
    if (generated.stoppedBy === 'budget') throw new BudgetExceededError({ spentUsd: spent.usd, maxCostUsd: maxCostUsd ?? spent.usd, message, hint });
    throw new InsufficientDataError({ count: generated.count, target, message, hint });
  }
}

/** The teacher as a step input: which model at which endpoint (a change redoes the step). */
function teacherIdentity(context: StageContext) {
  return context.teacher ? { provider: context.teacher.model.provider, model: context.teacher.modelId, endpoint: context.teacher.model.endpoint } : null;
}

export interface CalibrationStepOptions {
  evaluator: Evaluator;
  model: TrainedModel;
  splits: DatasetSplits;
  spec: PromptSpec;
  /** Default 0.99. */
  targetQuality?: number;
  /** Options of the evaluator that shape the calibration (its metrics), fingerprinted: a change redoes the step. */
  options?: unknown;
  /** Warn and return undefined, instead of failing, when the student reports no confidence (a pipeline run). */
  skipWithoutConfidence?: boolean;
}

/**
 * The `calibrate` step of a run folder (`calibration.json`): the evaluator's `calibrate` over the
 * validation split, held out from training (it only picks the checkpoint) and apart from the test
 * set the report's metrics come from. Skipped on a later run with the same inputs; redone, from
 * the LLM cache, when the target or the model changes. The pipeline and `prompt2model calibrate`
 * both run it. Undefined (with a warning) when the validation split is empty.
 */
export async function calibrationStep(context: StageContext, options: CalibrationStepOptions): Promise<CascadeCalibration | undefined> {
  const { evaluator, model, splits, spec } = options;
  const calibrate = evaluator.calibrate?.bind(evaluator);
  if (!calibrate) throw new Prompt2ModelError({ message: `The evaluator "${evaluator.name}" cannot calibrate a cascade.`, hint: 'Use the default evaluator (createEvaluator), or give yours a `calibrate` method.' });
  if (!splits.validation || splits.counts.validation === 0) {
    context.events.log('warn', 'Cascade calibration skipped: the validation split is empty (raise split.validation or generate more examples).', 'calibrate');
    return undefined;
  }
  const heldOut = splits.validation;
  const targetQuality = options.targetQuality ?? 0.99;
  const evalSpec = { instruction: spec.instruction, taskType: spec.taskType ?? null, labels: spec.labels ?? null };
  const step = runStep(
    context,
    'calibrate',
    RUN_FILES.calibration,
    CascadeCalibrationSchema,
    () => calibrate({ model, heldOutPath: context.store.path(heldOut), heldOutSplit: 'validation', spec, targetQuality }, context),
    {
      inputs: {
        model: portableTrainedModel(model, context.store.dir),
        heldOut: await fingerprintOf(context, heldOut),
        teacher: teacherIdentity(context),
        spec: evalSpec,
        targetQuality,
        evaluator: evaluator.name,
        options: hashableOptions(options.options) ?? null,
      },
    },
  );
  if (!options.skipWithoutConfidence) return step;
  return step.catch(async (error: unknown) => {
    // A student that reports no confidence (no ONNX export) has no cascade: the run goes on, and
    // the step is not left as a failure to resume.
    if (!ConfidenceUnavailableError.isInstance(error)) throw error;
    await context.store.resetStage('calibrate');
    context.events.log('warn', `Cascade calibration skipped: ${error.message}${error.hint ? ` ${error.hint}` : ''}`, 'calibrate');
    return undefined;
  });
}

async function writeJsonl(path: string, rows: readonly unknown[]): Promise<void> {
  // Written to a temporary name and renamed, so a crash never leaves a half split.
  const tmp = `${path}.partial`;
  const writer = await JsonlWriter.open(tmp, { truncate: true });
  try {
    for (const row of rows) await writer.write(row);
    await writer.sync();
  } finally {
    await writer.close();
  }
  await rename(tmp, path);
}

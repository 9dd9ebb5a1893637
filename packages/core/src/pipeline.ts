import { rename } from 'node:fs/promises';
import { z } from 'zod';
import { createStageContext, type CreateStageContextOptions, type StageContext } from './context.js';
import { throwIfAborted } from './errors/abort-error.js';
import { ProgressEmitter } from './events.js';
import { Prompt2ModelError } from './errors/prompt2model-error.js';
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
   * Decontamination of retrieved rows against the test split (e.g. dataset-generator's
   * `ContaminationIndex`): retrieved rows go to train only, and those the check flags are dropped.
   */
  contamination?: (testSet: readonly Example[]) => { isContaminated(example: Example): boolean };
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
  /** A running demo; call `close()` when done. */
  demo?: Demo;
  costUsd: number;
}

/** Names of the pipeline's steps, as recorded in the run manifest. */
export const PIPELINE_STEPS = ['parse', 'retrieve-datasets', 'generate', 'split', 'retrieve-models', 'train', 'evaluate'] as const;

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
    const context = await createStageContext({ ...this.options, events: this.events });
    const step = <T>(name: string, artifact: string, schema: z.ZodType<T>, compute: () => Promise<T>) =>
      runStep(context, name, artifact, schema, compute);

    const spec = await step('parse', 'prompt-spec.json', PromptSpecSchema, () => stages.promptParser.parse(prompt, context));
    const result: PipelineResult = { outDir: context.store.dir, spec, costUsd: 0 };

    const datasetRetriever = stages.datasetRetriever;
    const retrieved = datasetRetriever
      ? await step('retrieve-datasets', 'retrieved-summary.json', z.object({ count: z.number() }), async () => {
          const examples = await datasetRetriever.retrieve(spec, { maxExamples: this.options.maxRetrievedExamples ?? 1000 }, context);
          await writeJsonl(context.store.path('retrieved.jsonl'), examples);
          return { count: examples.length };
        })
      : undefined;
    result.retrievedCount = retrieved?.count;

    const datasetGenerator = stages.datasetGenerator;
    if (datasetGenerator) {
      const generated = await step('generate', 'generation-summary.json', z.object({ count: z.number() }).loose(), async () => {
        const output = await datasetGenerator.generate(
          spec,
          { numExamples: this.options.numExamples ?? 200, outputPath: context.store.path('dataset.jsonl') },
          context,
        );
        return { count: output.count, ...output.summary };
      });
      result.generatedCount = generated.count;
    }

    if (retrieved || datasetGenerator) {
      result.splits = await step('split', 'splits.json', DatasetSplitsSchema, async () => {
        // Streamed from disk (memory holds input hashes only); inputs repeated across sources are dropped.
        // Retrieved rows train only when generated data makes the test set, and are checked against it.
        const retrievedTrainOnly = retrieved !== undefined && datasetGenerator !== null && datasetGenerator !== undefined;
        const { duplicates, contaminated, ...splits } = await splitDatasetFiles({
          ...this.options.split,
          outDir: context.store.dir,
          sources: [
            ...(datasetGenerator ? [{ path: context.store.path('dataset.jsonl'), source: 'generated' as const }] : []),
            ...(retrieved ? [{ path: context.store.path('retrieved.jsonl'), source: 'retrieved' as const }] : []),
          ],
          ...(retrievedTrainOnly ? { trainOnlySources: ['retrieved' as const], ...(this.options.contamination ? { contamination: this.options.contamination } : {}) } : {}),
        });
        if (contaminated > 0) context.events.log('info', `Dropped ${contaminated} retrieved rows that overlap the test set.`, 'split');
        const total = splits.counts.train + splits.counts.validation + splits.counts.test;
        if (total === 0) {
          throw new Prompt2ModelError({ message: 'No training examples were produced.', hint: 'Check the teacher model and the prompt, or enable dataset retrieval.' });
        }
        if (duplicates > 0) context.events.log('info', `Dropped ${duplicates} inputs repeated across retrieved and generated data.`, 'split');
        return splits;
      });
    }

    const modelRetriever = stages.modelRetriever;
    if (modelRetriever) {
      result.candidates = await step('retrieve-models', 'models.json', z.array(ModelCandidateSchema), () =>
        modelRetriever.retrieve(spec, { topK: this.options.topKModels ?? 5 }, context),
      );
    }

    const trainer = stages.trainer;
    if (trainer) {
      const splits = result.splits;
      if (!splits) throw new Prompt2ModelError({ message: 'Training needs data, but both dataset stages are disabled.', hint: 'Enable datasetGenerator or datasetRetriever.' });
      const baseModel = this.options.training?.baseModel ?? result.candidates?.[0]?.id;
      if (!baseModel) {
        throw new Prompt2ModelError({ message: 'No base model to train: model retrieval found none and none was given.', hint: 'Pass training.baseModel (CLI: --base-model).' });
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
      result.trainedModel = await step('train', 'trained-model.json', TrainedModelSchema, () => trainer.train(job, context));
    }

    const evaluator = stages.evaluator;
    if (evaluator && result.trainedModel && result.splits && result.splits.counts.test === 0) {
      context.events.log('warn', 'Evaluation skipped: the test split is empty. Generate more examples or raise the test share (split.test).', 'evaluate');
    }
    if (evaluator && result.trainedModel && result.splits?.test && result.splits.counts.test > 0) {
      const model = result.trainedModel;
      const testPath = context.store.path(result.splits.test);
      result.evalReport = await step('evaluate', 'eval-report.json', EvalReportSchema, () => evaluator.evaluate({ model, testPath, spec }, context));
    }

    if (stages.demoCreator && result.trainedModel) {
      result.demo = await stages.demoCreator.create(result.trainedModel, spec, context);
    }
    await context.store.saveCost(context.ledger.snapshot());
    result.costUsd = context.ledger.totalUsd;
    return result;
  }
}

/**
 * Runs one step unless the run folder already holds its finished artifact; records status, timing
 * and cost in the manifest either way.
 */
export async function runStep<T>(
  context: StageContext,
  name: string,
  artifact: string,
  schema: z.ZodType<T>,
  compute: () => Promise<T>,
): Promise<T> {
  throwIfAborted(context.signal);
  const { store, events } = context;
  if (store.isDone(name)) {
    const saved = await store.readJson(artifact, schema);
    if (saved !== undefined) {
      events.emit({ type: 'stage-finish', stage: name, status: 'cached', durationMs: 0 });
      return saved;
    }
  }
  const started = Date.now();
  events.emit({ type: 'stage-start', stage: name, resumed: store.stage(name) !== undefined });
  await store.startStage(name);
  try {
    const value = await compute();
    await store.writeJson(artifact, value);
    await store.saveCost(context.ledger.snapshot());
    await store.finishStage(name, artifact);
    events.emit({ type: 'stage-finish', stage: name, status: 'done', durationMs: Date.now() - started });
    return value;
  } catch (error) {
    await store.saveCost(context.ledger.snapshot());
    await store.failStage(name, error);
    events.emit({ type: 'stage-finish', stage: name, status: 'failed', durationMs: Date.now() - started, error: (error as Error).message });
    throw error;
  }
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

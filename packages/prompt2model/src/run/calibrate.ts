import {
  calibrationStep,
  CostLedger,
  DatasetSplitsSchema,
  estimateTokens as roughTokens,
  ExampleSchema,
  Prompt2ModelError,
  PromptSpecSchema,
  readJsonlAll,
  readRunFile,
  readTrainedModelSync,
  RUN_FILES,
  RunManifestSchema,
  type CascadeCalibration,
  type DatasetSplits,
  type Example,
  type PromptSpec,
  type StageContext,
  type TokenPrice,
  type TrainedModel,
} from '@prompt2model/core/internal';
import type { EvaluatorOptions } from '@prompt2model/evaluator/internal';
import type { WorkerExecutorOptions } from '@prompt2model/trainer/internal';
import { defaultEvaluator } from '../create-pipeline.js';
import { createModelRegistry, type ModelProviderSettings } from '../registry/model-providers.js';

/** What a finished run folder holds for its cascade calibration. */
export interface CalibrationTarget {
  model: TrainedModel;
  spec: PromptSpec;
  splits: DatasetSplits;
  /** The validation split's rows (held out from training). */
  heldOut: Example[];
  /** The teacher the run was made with (its manifest's config), when recorded. */
  teacher?: string;
}

/**
 * Reads what calibration needs from a run folder: the trained model, the task, the validation
 * split. A clear error (exit 2 in the CLI) when the folder has not got that far.
 */
export async function readCalibrationTarget(runDir: string): Promise<CalibrationTarget> {
  const notReady = (what: string, hint: string) => new Prompt2ModelError({ message: `${runDir} ${what}, so there is no cascade to calibrate.`, hint, exitCategory: 'configuration' });
  const model = readTrainedModelSync(runDir);
  if (!model) throw notReady('has no trained model (trained-model.json)', 'Calibrate the folder of a run whose training has finished (`prompt2model run` trains and calibrates).');
  const spec = await readRunFile(runDir, RUN_FILES.promptSpec, PromptSpecSchema);
  if (!spec) throw notReady('has no task (prompt-spec.json)', 'Calibrate the folder a `prompt2model run` made.');
  const splits = await readRunFile(runDir, RUN_FILES.splits, DatasetSplitsSchema);
  if (!splits?.validation || splits.counts.validation === 0) {
    throw notReady('has no validation examples', 'The cascade is calibrated on the validation split, which training never learns from: rerun with more examples or a larger validation share.');
  }
  const heldOut = await readJsonlAll(`${runDir}/${splits.validation}`, { schema: ExampleSchema });
  const manifest = await readRunFile(runDir, RUN_FILES.manifest, RunManifestSchema).catch(() => undefined);
  const teacher = manifest?.config.teacher;
  return { model, spec, splits, heldOut, ...(typeof teacher === 'string' ? { teacher } : {}) };
}

/** The teacher calls a calibration makes, priced before any is made. */
export interface CalibrationEstimate {
  teacher: string;
  /** False when the teacher has no known price (its calls count as $0). */
  priced: boolean;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  /** An upper bound: calls already in the LLM cache cost nothing. */
  usd: number;
  heldOut: { split: 'validation'; count: number };
}

/**
 * One teacher call per validation row: the instruction as the system message and the row's input,
 * the answer sized from its reference; tokens counted with the teacher's tokenizer when given (as the
 * run's estimate counts them), else at 4 characters a token.
 */
export function estimateCalibration(
  target: Pick<CalibrationTarget, 'spec' | 'heldOut'>,
  teacher: string,
  options: { prices?: Record<string, TokenPrice>; countTokens?: (text: string) => number } = {},
): CalibrationEstimate {
  const ledger = new CostLedger(options.prices ? { prices: options.prices } : {});
  const estimateTokens = options.countTokens ?? roughTokens;
  const system = estimateTokens(target.spec.instruction) + 4;
  const inputTokens = target.heldOut.reduce((sum, row) => sum + system + estimateTokens(row.input) + 8, 0);
  const outputTokens = target.heldOut.reduce((sum, row) => sum + Math.max(1, estimateTokens(row.output)), 0);
  return {
    teacher,
    priced: ledger.priceFor(teacher) !== undefined,
    requests: target.heldOut.length,
    inputTokens,
    outputTokens,
    usd: ledger.costOf(teacher, { inputTokens, outputTokens }),
    heldOut: { split: 'validation', count: target.heldOut.length },
  };
}

export interface CalibrateRunOptions {
  /** The cascade's default threshold keeps this share of the teacher's quality (default 0.99). */
  targetQuality?: number;
  /** Settings of the model providers a managed student's name resolves through (default: the environment). */
  providers?: ModelProviderSettings;
  /** How a PyTorch student is run (the Python predict worker); an ONNX export needs no Python. */
  predict?: WorkerExecutorOptions;
  /** Metric options of the evaluator (the run's own, to score as its evaluation did). */
  evaluator?: EvaluatorOptions;
}

/**
 * Calibrates the cascade of a finished run folder, as `prompt2model run` does after evaluation:
 * the student and the run's teacher (`context.teacher`, with the context's cache, ledger and
 * budget cap) over the validation split, then `calibration.json` and the model card rewritten.
 * A rerun with the same inputs returns the saved calibration and calls nobody.
 */
export async function calibrateRun(context: StageContext, options: CalibrateRunOptions = {}): Promise<CascadeCalibration | undefined> {
  if (!context.teacher) throw new Prompt2ModelError({ message: 'Calibration needs the teacher the cascade will ask.', hint: 'Configure a `teacher` on the context.', exitCategory: 'configuration' });
  const target = await readCalibrationTarget(context.store.dir);
  const evaluator = defaultEvaluator({
    models: createModelRegistry(options.providers),
    ...(options.predict ? { predict: options.predict } : {}),
    ...(options.evaluator ? { evaluator: options.evaluator } : {}),
  });
  try {
    return await calibrationStep(context, {
      evaluator,
      model: target.model,
      splits: target.splits,
      spec: target.spec,
      ...(options.targetQuality !== undefined ? { targetQuality: options.targetQuality } : {}),
      // As `prompt2model run` fingerprints it: a calibration the run made is reused as is.
      options: { metrics: options.evaluator?.metrics ?? null },
    });
  } finally {
    await context.store.saveCost(context.ledger.snapshot());
  }
}

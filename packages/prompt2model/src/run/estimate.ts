import { CostLedger, estimateTokens as roughTokens, type ChatMessage, type PromptSpec, type TokenPrice, type TrainingJobSpec, type TrainingPricing } from '@prompt2model/core/internal';
import { buildInputGenerationPrompt, buildLabelPrompt } from '@prompt2model/dataset-generator/internal';
import { hydeMessages } from '@prompt2model/model-retriever/internal';
import { estimateTrainingCost } from '@prompt2model/trainer/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';

/** Expected teacher traffic of one stage. */
export interface StageEstimate {
  stage: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
  /** How the figure was reached, in a few words. */
  basis: string;
}

export interface RunEstimate {
  teacher: string;
  /** False when the teacher model has no known price (its calls count as $0). */
  priced: boolean;
  stages: StageEstimate[];
  training?: { usd: number; hours?: number; gpuHours?: number; trainedTokens: number; backend: string; where?: string; basis?: string };
  teacherUsd: number;
  totalUsd: number;
  maxCostUsd?: number;
  withinBudget: boolean;
  assumptions: string[];
}

export interface EstimateRunOptions {
  spec: PromptSpec;
  /** Whether the spec came from the deterministic parser (no teacher call) or needs the teacher. */
  parsedWithoutTeacher: boolean;
  prompt: string;
  teacher: string;
  prices?: Record<string, TokenPrice>;
  numExamples: number;
  hyde: boolean;
  train: boolean;
  evaluate: boolean;
  /** The cascade's calibration after evaluation: the teacher over the validation split (default: with `evaluate`). */
  calibrate?: boolean;
  maxCostUsd?: number;
  job?: TrainingJobSpec;
  backend?: TrainerBackend;
  /** The backend's quote for the job (`TrainerBackend.quote`), when it has one; else its `pricing`. */
  pricing?: TrainingPricing;
  split?: { validation?: number; test?: number };
  /**
   * The teacher's token count for a text (its real tokenizer, `LanguageModel.tokenCounter`).
   * Default: four characters a token, which undercounts code and non-Latin scripts 3-4×.
   */
  countTokens?: (text: string) => number;
  /** The generator's settings (defaults as in PromptBasedDatasetGenerator). */
  generator?: { samplesPerInput?: number; choicesPerRequest?: number; examplesPerChoice?: number; maxChoicesPerRequest?: number };
}

/**
 * Share of candidate inputs kept (the rest are duplicates, near-duplicates or filtered before they
 * are labelled). The generator issues requests by the rate it observes, so this sets the request count.
 */
const KEEP_RATE = 0.65;
/** JSON around one generated example ({"input": "...", "output": ""}), in tokens. */
const JSON_OVERHEAD_TOKENS = 10;

/**
 * The whole run's expected cost before any paid call: the prompts each stage will send are built
 * for real from the parsed spec and counted; answers are sized from the demonstrations. Request
 * counts follow the generator's own plan (it issues requests assuming half the candidates survive,
 * and labels every candidate that passes the filters).
 */
export function estimateRun(options: EstimateRunOptions): RunEstimate {
  const ledger = new CostLedger({ ...(options.prices ? { prices: options.prices } : {}) });
  const teacher = options.teacher;
  const cost = (input: number, output: number) => ledger.costOf(teacher, { inputTokens: input, outputTokens: output });
  const estimateTokens = options.countTokens ?? roughTokens;
  const tokens = (messages: readonly ChatMessage[]) => messages.reduce((sum, message) => sum + estimateTokens(message.content) + 4, 0);
  const { spec } = options;
  const demos = spec.examples.length > 0 ? spec.examples : [{ input: spec.instruction.slice(0, 200), output: spec.instruction.slice(0, 40) }];
  const avgInputTokens = average(demos.map((demo) => estimateTokens(demo.input)));
  const avgOutputTokens = average(demos.map((demo) => estimateTokens(demo.output)));
  const stages: StageEstimate[] = [];
  const add = (stage: string, requests: number, inputTokens: number, outputTokens: number, basis: string) =>
    stages.push({ stage, requests, inputTokens: Math.round(inputTokens), outputTokens: Math.round(outputTokens), usd: cost(inputTokens, outputTokens), basis });

  if (!options.parsedWithoutTeacher) {
    const input = estimateTokens(options.prompt) + 400;
    add('parse', 1, input, estimateTokens(options.prompt), 'the teacher splits an unmarked prompt (one call)');
  }

  const k = options.generator?.samplesPerInput ?? 3;
  const maxN = options.generator?.maxChoicesPerRequest ?? 128;
  const choices = Math.max(1, Math.min(options.generator?.choicesPerRequest ?? 4, maxN));
  const perChoice = options.generator?.examplesPerChoice ?? 3;
  const perUnit = choices * perChoice;
  // One request more than the target needs: requests run ahead of the last one committed.
  const units = Math.ceil(options.numExamples / (perUnit * KEEP_RATE)) + 1;
  const previous = demos.slice(0, 5);
  const generationPrompt = buildInputGenerationPrompt({ spec, demonstrations: spec.examples, previous, examplesPerChoice: perChoice, maxPromptTokens: 1_000_000 });
  const generationIn = tokens(generationPrompt.messages);
  const generationOut = choices * (perChoice * (avgInputTokens + JSON_OVERHEAD_TOKENS) + 4);
  add('generate (inputs)', units, units * generationIn, units * generationOut, `${units} requests × ${choices} choices × ${perChoice} examples`);

  // Every kept candidate is labelled, and so are those of the requests in flight when the target is met.
  const labelled = options.numExamples + perUnit;
  const labelPrompt = buildLabelPrompt({ spec, input: demos[0]!.input, demonstrations: spec.examples, maxPromptTokens: 1_000_000 });
  const labelRequests = labelled * Math.ceil(k / maxN);
  add('generate (labels)', labelRequests, labelRequests * tokens(labelPrompt.messages), labelled * k * Math.max(1, avgOutputTokens), `${labelled} inputs × ${k} votes`);

  if (options.hyde) add('retrieve-models (HyDE)', 1, tokens(hydeMessages(spec)), 260, 'one hypothetical model card');

  const testShare = options.split?.test ?? 0.1;
  const testCount = Math.round(options.numExamples * testShare);
  if (options.train && options.evaluate && testCount > 0) {
    const perRequest = estimateTokens(spec.instruction) + avgInputTokens + 8;
    add('evaluate-teacher', testCount, testCount * perRequest, testCount * Math.max(1, avgOutputTokens), `the teacher on ${testCount} test examples`);
  }
  const validationCount = Math.round(options.numExamples * (options.split?.validation ?? 0.1));
  if (options.train && options.evaluate && (options.calibrate ?? true) && validationCount > 0) {
    const perRequest = estimateTokens(spec.instruction) + avgInputTokens + 8;
    add('calibrate', validationCount, validationCount * perRequest, validationCount * Math.max(1, avgOutputTokens), `the teacher on ${validationCount} validation examples (cascade calibration)`);
  }

  let training: RunEstimate['training'];
  if (options.train && options.job && options.backend) {
    const trainCount = Math.max(1, Math.round(options.numExamples * (1 - testShare - (options.split?.validation ?? 0.1))));
    const perExample = estimateTokens(spec.instruction) + avgInputTokens + avgOutputTokens + 8;
    const split = (count: number) => ({ path: '', count, tokens: count * perExample, maxExampleTokens: perExample, bytes: count * perExample * 4, truncatedSource: 0, truncatedTarget: 0, duplicates: 0 });
    const estimate = estimateTrainingCost(options.job, { train: split(trainCount), warnings: [] }, options.pricing ?? options.backend.pricing(options.job));
    training = {
      usd: estimate.usd,
      trainedTokens: estimate.trainedTokens,
      backend: options.backend.name,
      ...(estimate.pricing.kind === 'gpu-time' && estimate.pricing.device ? { where: `${estimate.pricing.gpus} × ${estimate.pricing.device}` } : {}),
      ...(estimate.pricing.kind === 'gpu-time'
        ? { basis: `${estimate.pricing.gpuHourlyUsd > 0 ? `$${estimate.pricing.gpuHourlyUsd}/GPU-hour` : 'no hourly price (your own hardware)'}${estimate.pricing.note ? `; ${estimate.pricing.note}` : ''}` }
        : { basis: `$${estimate.pricing.usdPer1MTokens}/1M training tokens` }),
      ...(estimate.hours !== undefined ? { hours: estimate.hours } : {}),
      ...(estimate.gpuHours !== undefined ? { gpuHours: estimate.gpuHours } : {}),
    };
  }
  const teacherUsd = stages.reduce((sum, stage) => sum + stage.usd, 0);
  const totalUsd = teacherUsd + (training?.usd ?? 0);
  return {
    teacher,
    priced: ledger.priceFor(teacher) !== undefined,
    stages,
    ...(training ? { training } : {}),
    teacherUsd,
    totalUsd,
    ...(options.maxCostUsd !== undefined ? { maxCostUsd: options.maxCostUsd } : {}),
    withinBudget: options.maxCostUsd === undefined || totalUsd <= options.maxCostUsd,
    assumptions: [
      `${KEEP_RATE * 100}% of candidate inputs survive deduplication and the filters (a teacher that repeats itself needs more requests)`,
      `answers are sized from the prompt's demonstrations (${options.countTokens ? "tokens counted with the teacher's tokenizer" : 'tokens estimated at 4 characters each'})`,
      'dataset retrieval (on by default) is not counted: its teacher calls, if any, are few',
      'calls already in the LLM cache cost nothing, so a resumed run costs less',
    ],
  };
}

/** The estimate as a short table for the terminal. */
export function formatRunEstimate(estimate: RunEstimate): string {
  const usd = (value: number) => `$${value.toFixed(4)}`;
  const lines = [`Estimate for teacher ${estimate.teacher}${estimate.priced ? '' : ' (no known price: its calls count as $0)'}:`];
  const width = Math.max(...estimate.stages.map((stage) => stage.stage.length), 8);
  for (const stage of estimate.stages) {
    lines.push(`  ${stage.stage.padEnd(width)}  ${String(stage.requests).padStart(5)} requests  ${String(stage.inputTokens).padStart(8)} in  ${String(stage.outputTokens).padStart(7)} out  ${usd(stage.usd).padStart(9)}   ${stage.basis}`);
  }
  lines.push(`  ${'teacher'.padEnd(width)}  ${usd(estimate.teacherUsd)}`);
  if (estimate.training) {
    const time = estimate.training.hours !== undefined ? `, about ${formatHours(estimate.training.hours)}` : '';
    lines.push(`  ${'training'.padEnd(width)}  ${usd(estimate.training.usd)} (${estimate.training.backend}${estimate.training.where ? ` on ${estimate.training.where}` : ''}, ${estimate.training.trainedTokens} trained tokens${time})`);
    if (estimate.training.basis) lines.push(`  ${''.padEnd(width)}  quote: ${estimate.training.basis}`);
  }
  lines.push(`  ${'total'.padEnd(width)}  ${usd(estimate.totalUsd)}${estimate.maxCostUsd !== undefined ? ` of --max-cost ${usd(estimate.maxCostUsd)}${estimate.withinBudget ? '' : ' (OVER the cap: raise --max-cost or lower --num-examples)'}` : ''}`);
  lines.push(`Assumes ${estimate.assumptions.join('; ')}.`);
  return lines.join('\n');
}

function formatHours(hours: number): string {
  return hours < 1 ? `${Math.max(1, Math.round(hours * 60))} min` : `${hours.toFixed(1)} h`;
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

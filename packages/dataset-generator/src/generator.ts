import {
  InvalidArgumentError,
  Prompt2ModelError,
  type DatasetGenerator,
  type DatasetGeneratorOptions,
  type GeneratedDataset,
  type LanguageModelClient,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core/internal';
import type { DecontaminationOptions } from './decontamination.js';
import { GenerationRun } from './generation-run.js';
import type { QualityFilterOptions, RejectionReason } from './quality.js';
import type { TemperatureSchedule } from './temperature.js';

export { progressLogPath } from './progress-log.js';

export interface PromptBasedDatasetGeneratorOptions {
  /**
   * Fewest label votes asked for first. The first round grows to what the running noise estimate
   * says one round needs to reach `confidenceTarget` (votes in one request cost only their short
   * answers). Default 3.
   */
  samplesPerInput?: number;
  /** Most label votes per input; votes are added while the vote is tied or below the confidence target. Default 15. */
  maxSamplesPerInput?: number;
  /** Inputs whose winning output got less than this share of the votes are dropped. Default 0.5. */
  minAgreement?: number;
  /**
   * Votes are added until the leading answer is right with this probability, judged from the
   * teacher's estimated label noise. Default 0.99.
   */
  confidenceTarget?: number;
  /** Temperature of input generation by progress. Default `linearTemperatureSchedule(0.5, 1.4)`. */
  temperatureSchedule?: TemperatureSchedule;
  /** Temperature of the labelling samples. Default 0.7. */
  labelTemperature?: number;
  /** Choices (`n`) per input-generation request, capped by the teacher's limit. Default 4. */
  choicesPerRequest?: number;
  /** Examples asked for in each choice. Default 3. */
  examplesPerChoice?: number;
  /** Earlier generated examples shown in each input-generation prompt. Default 5. */
  previousExamplesInPrompt?: number;
  /** The most recent accepted examples those are sampled from. Default 200. */
  previousExamplePool?: number;
  /** Prompt token budget. Default: the teacher's context window less the answer, else 6000. */
  maxPromptTokens?: number;
  /** Answer budget of an input-generation choice. Default 300 tokens per example asked for. */
  generationMaxTokens?: number;
  /** Answer budget of a label sample. Default 64 with a label set, else 512. */
  labelMaxTokens?: number;
  /**
   * Input-generation requests in flight ahead of the last committed one. Request j is built from the
   * dataset as it stood after request j - lookahead, which keeps requests reproducible (and cached)
   * whatever the timing. Default 16: each unit's rounds (generation, then votes, then more votes
   * when split) wait their turn at the rate limit one after another, and a unit hit by a slow
   * answer or a retry must not drain the queue before it commits.
   */
  lookahead?: number;
  /** Seed of prompt construction. Default 0. */
  seed?: number;
  /** Character n-gram MinHash threshold for near-duplicate inputs. Default 0.8. */
  nearDuplicateThreshold?: number;
  /** Quality filter limits (labels and instruction come from the spec). */
  quality?: Pick<QualityFilterOptions, 'maxInputChars' | 'maxOutputChars'>;
  decontamination?: DecontaminationOptions;
  /** Stop after this many input-generation requests in a row add nothing. Default 25. */
  maxUnproductiveRequests?: number;
  /**
   * Most labelling calls started at once. Default: twice the scheduler's concurrency, enough to keep
   * it busy without building prompts long before they can be sent. Batch mode: Infinity.
   */
  labelConcurrency?: number;
  /**
   * Under a budget cap, start only as many units as the money left can finish (judged from the cost
   * of finished units). Default true; off in Batch API mode, where a unit takes a whole batch.
   */
  budgetAwareIssuing?: boolean;
  /** Use this client instead of `context.teacher` (e.g. a Batch API client). */
  teacher?: LanguageModelClient;
  /** Stage name in progress events. Default `generate`. */
  stage?: string;
}

export type GenerationStopReason = 'target' | 'budget' | 'exhausted';

export interface GenerationSummary {
  accepted: number;
  target: number;
  stoppedBy: GenerationStopReason;
  /** Rows already in the file when this call started (a resumed run). */
  resumedRows: number;
  /** Input-generation requests committed (this and earlier runs). */
  generationRequests: number;
  /** Candidate inputs parsed from the teacher's answers. */
  candidates: number;
  rejected: Partial<Record<RejectionReason, number>>;
  teacher: string;
  /** Teacher calls of this call: paid ones and cache hits, with the tokens paid for. */
  calls: { paid: number; cached: number };
  tokens: { input: number; output: number };
  costUsd: number;
  /** Spending of the whole run folder so far. */
  totalCostUsd: number;
  /** The teacher's label noise as its votes show it, and what that means for the kept labels. */
  labelNoise: LabelNoiseSummary;
  /** Mean self-consistency agreement of the kept examples' answers, 0..1 (the model card shows it). */
  meanAgreement: number;
  /** Candidates dropped as exact or near duplicates. */
  duplicates: number;
  /** Candidates dropped because they matched the test split or the prompt's demonstrations. */
  decontaminated: number;
}

/**
 * Label noise estimated from vote agreement (`generation-summary.json` → `labelNoise`). Errors the
 * teacher makes the same way every time look like agreement and are not in these figures.
 */
export interface LabelNoiseSummary {
  /** Share of label samples estimated to be wrong (first-round votes that disagree with the final answer). */
  estimatedNoise: number;
  /** Expected share of kept labels that are right: their mean vote confidence under that noise. */
  expectedAccuracy: number;
  /** Estimated chance that a wrong sample takes one particular wrong answer. */
  answerConcentration: number;
  /** Inputs voted on, mean votes per input, and the first-round counts behind the estimate. */
  inputsVoted: number;
  votesPerInput: number;
  firstRoundVotes: number;
  firstRoundDisagreeing: number;
}

/**
 * Generates a dataset with a teacher LLM, after Prompt2Model (Viswanathan et al., 2023), improved:
 * few-shot input generation with the user's examples plus a sample of earlier generated ones, an
 * annealed temperature, labels by adaptive self-consistency voting, exact and near-duplicate
 * removal, quality filters and decontamination against an evaluation set. Accepted rows stream to
 * the output file; a progress log beside it makes a rerun resume where the last one stopped.
 */
export class PromptBasedDatasetGenerator implements DatasetGenerator {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'prompt-based';

  constructor(readonly options: PromptBasedDatasetGeneratorOptions = {}) {
    const k = options.samplesPerInput ?? 3;
    if (!Number.isInteger(k) || k < 1) throw new InvalidArgumentError({ argument: 'samplesPerInput', value: k, expected: 'a positive integer' });
    if (options.minAgreement !== undefined && (options.minAgreement < 0 || options.minAgreement > 1)) {
      throw new InvalidArgumentError({ argument: 'minAgreement', value: options.minAgreement, expected: 'in [0, 1]' });
    }
    if (options.maxSamplesPerInput !== undefined && (!Number.isInteger(options.maxSamplesPerInput) || options.maxSamplesPerInput < 1)) {
      throw new InvalidArgumentError({ argument: 'maxSamplesPerInput', value: options.maxSamplesPerInput, expected: 'a positive integer' });
    }
    if (options.confidenceTarget !== undefined && !(options.confidenceTarget > 0 && options.confidenceTarget < 1)) {
      throw new InvalidArgumentError({ argument: 'confidenceTarget', value: options.confidenceTarget, expected: 'in (0, 1)' });
    }
    if (options.labelTemperature !== undefined && !(options.labelTemperature >= 0 && options.labelTemperature <= 2)) {
      throw new InvalidArgumentError({ argument: 'labelTemperature', value: options.labelTemperature, expected: 'in [0, 2]' });
    }
  }

  async generate(spec: PromptSpec, options: DatasetGeneratorOptions, context: StageContext): Promise<GeneratedDataset> {
    const teacher = this.options.teacher ?? context.teacher;
    if (!teacher) {
      throw new Prompt2ModelError({
        message: 'Dataset generation needs a teacher model, and none is configured.',
        hint: 'Pass a `teacher` model (with OPENAI_BASE_URL/OPENAI_API_KEY for the endpoint), or give the stage context a teacher.',
      });
    }
    if (!Number.isInteger(options.numExamples) || options.numExamples < 0) {
      throw new InvalidArgumentError({ argument: 'numExamples', value: options.numExamples, expected: 'a non-negative integer' });
    }
    const run = new GenerationRun(spec, options, context, teacher, this.options);
    const summary = await run.execute();
    return { path: options.outputPath, count: summary.accepted, summary: { ...summary } };
  }
}

/** Shorthand for `new PromptBasedDatasetGenerator(options)`. */
export function createDatasetGenerator(options: PromptBasedDatasetGeneratorOptions = {}): PromptBasedDatasetGenerator {
  return new PromptBasedDatasetGenerator(options);
}


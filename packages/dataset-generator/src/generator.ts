import { stat } from 'node:fs/promises';
import {
  AbortError,
  BudgetExceededError,
  JsonlWriter,
  Prompt2ModelError,
  ValidationError,
  sha256,
  type ChatMessage,
  readJsonl,
  repairJsonlTail,
  type DatasetGenerator,
  type DatasetGeneratorOptions,
  type Demonstration,
  type Example,
  type GeneratedDataset,
  type LanguageModelClient,
  type LanguageModelRequest,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core';
import { z } from 'zod';
import { ContaminationIndex, type DecontaminationOptions } from './decontamination.js';
import { truncateJsonlRows } from './jsonl-files.js';
import { NearDuplicateIndex, estimateSimilarity } from './near-duplicate.js';
import {
  GENERATED_EXAMPLES_SCHEMA,
  buildInputGenerationPrompt,
  buildLabelPrompt,
  parseGeneratedCandidates,
} from './prompts.js';
import {
  checkInput,
  checkOutput,
  matchLabel,
  qualityOptionsFor,
  standardizeInput,
  standardizeOutput,
  type QualityFilterOptions,
  type RejectionReason,
} from './quality.js';
import { selfConsistencyVote } from './self-consistency.js';
import { linearTemperatureSchedule, type TemperatureSchedule } from './temperature.js';
import { fnv1a32, hash52, normalizeText, sampleWithoutReplacement, seededRandom, shuffled } from './text.js';

export interface PromptBasedDatasetGeneratorOptions {
  /** Independent teacher samples per input for the majority vote (k). Default 3. */
  samplesPerInput?: number;
  /**
   * Most samples per input: when the vote is split (no strict majority, or a tie), two more are
   * asked for at a time up to this. Default `samplesPerInput + 4` for tasks with a label set,
   * otherwise `samplesPerInput` (free-text answers rarely agree word for word).
   */
  maxSamplesPerInput?: number;
  /** Inputs whose winning output got less than this share of the votes are dropped. Default 0.5 with a label set, else 0. */
  minAgreement?: number;
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
   * whatever the timing. Default 8.
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

/**
 * The stored form of a generation result (`generation-summary.json`): the count plus the summary
 * fields, validated loosely so older or newer summaries still read.
 */
export const GenerationSummaryFileSchema = z
  .object({
    count: z.number().int().nonnegative(),
    target: z.number().optional(),
    stoppedBy: z.enum(['target', 'budget', 'exhausted']).optional(),
  })
  .loose();

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
}

interface Candidate {
  input: string;
  output: string;
  signature: Uint32Array;
  inputHash: number;
  meta: Record<string, unknown>;
}

interface UnitResult {
  unit: number;
  candidates: number;
  labelled: Candidate[];
  rejected: Partial<Record<RejectionReason, number>>;
}

const ProgressLineSchema = z.object({
  unit: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  candidates: z.number().int().nonnegative(),
  rejected: z.record(z.string(), z.number().int().nonnegative()),
});
type ProgressLine = { unit: number; rows: number; candidates: number; rejected: Partial<Record<RejectionReason, number>> };

interface PoolEntry extends Demonstration {
  unit: number;
}

/**
 * Generates a dataset with a teacher LLM, after Prompt2Model (Viswanathan et al., 2023), improved:
 * few-shot input generation with the user's examples plus a sample of earlier generated ones, an
 * annealed temperature, labels by self-consistency voting over k samples, exact and near-duplicate
 * removal, quality filters and decontamination against an evaluation set. Accepted rows stream to
 * the output file; a progress log beside it makes a rerun resume where the last one stopped.
 */
export class PromptBasedDatasetGenerator implements DatasetGenerator {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'prompt-based';

  constructor(readonly options: PromptBasedDatasetGeneratorOptions = {}) {
    const k = options.samplesPerInput ?? 3;
    if (!Number.isInteger(k) || k < 1) throw new RangeError('samplesPerInput must be a positive integer');
    if (options.minAgreement !== undefined && (options.minAgreement < 0 || options.minAgreement > 1)) {
      throw new RangeError('minAgreement must be in [0, 1]');
    }
  }

  async generate(spec: PromptSpec, options: DatasetGeneratorOptions, context: StageContext): Promise<GeneratedDataset> {
    const teacher = this.options.teacher ?? context.teacher;
    if (!teacher) {
      throw new Prompt2ModelError({
        message: 'Dataset generation needs a teacher model, and none is configured.',
        hint: 'Pass --teacher MODEL (with OPENAI_BASE_URL/OPENAI_API_KEY for the endpoint), or give the stage context a teacher.',
      });
    }
    if (!Number.isInteger(options.numExamples) || options.numExamples < 0) {
      throw new RangeError('numExamples must be a non-negative integer');
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

/** Where the progress log of a dataset file lives: `dataset.jsonl` → `dataset.progress.jsonl`. */
export function progressLogPath(outputPath: string): string {
  return `${outputPath.replace(/\.jsonl$/u, '')}.progress.jsonl`;
}

class GenerationRun {
  private readonly k: number;
  private readonly maxSamples: number;
  private readonly minAgreement: number;
  private readonly schedule: TemperatureSchedule;
  private readonly labelTemperature: number;
  private readonly choices: number;
  private readonly examplesPerChoice: number;
  private readonly previousInPrompt: number;
  private readonly poolSize: number;
  private readonly maxPromptTokens: number;
  private readonly generationMaxTokens: number;
  private readonly labelMaxTokens: number;
  private readonly lookahead: number;
  private readonly seed: number;
  private readonly stage: string;
  private readonly quality: QualityFilterOptions;
  private readonly contamination: ContaminationIndex;
  private readonly near: NearDuplicateIndex;
  private readonly maxUnproductive: number;
  private readonly hasLabels: boolean;
  private readonly budgetAwareIssuing: boolean;

  // Committed state, in commit (= unit) order.
  private accepted = 0;
  private committedUnits = 0;
  private candidatesSeen = 0;
  private readonly rejected: Partial<Record<RejectionReason, number>> = {};
  private readonly cumulativeRows: number[] = [];
  private readonly exact = new Map<number, number>();
  private readonly indexUnits: number[] = [];
  private pool: PoolEntry[] = [];
  private unproductiveInARow = 0;
  private spentAtStart = 0;
  private unitsAtStart = 0;

  // Labelling calls started but not finished. Bounded to a little more than the scheduler runs at
  // once: enough to keep it busy, while prompts are not built long before they can be sent.
  private readonly labelSlots: Slots;
  private readonly abort = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly spec: PromptSpec,
    private readonly options: DatasetGeneratorOptions,
    private readonly context: StageContext,
    private readonly teacher: LanguageModelClient,
    config: PromptBasedDatasetGeneratorOptions,
  ) {
    this.hasLabels = (spec.labels?.length ?? 0) > 0;
    this.k = config.samplesPerInput ?? 3;
    this.maxSamples = Math.max(this.k, config.maxSamplesPerInput ?? (this.hasLabels ? this.k + 4 : this.k));
    this.minAgreement = config.minAgreement ?? (this.hasLabels ? 0.5 : 0);
    this.schedule = config.temperatureSchedule ?? linearTemperatureSchedule(0.5, 1.4);
    this.labelTemperature = config.labelTemperature ?? 0.7;
    this.choices = Math.max(1, Math.min(config.choicesPerRequest ?? 4, teacher.maxChoicesPerRequest));
    this.examplesPerChoice = Math.max(1, config.examplesPerChoice ?? 3);
    this.previousInPrompt = config.previousExamplesInPrompt ?? 5;
    this.poolSize = Math.max(this.previousInPrompt, config.previousExamplePool ?? 200);
    this.generationMaxTokens = config.generationMaxTokens ?? 300 * this.examplesPerChoice;
    this.labelMaxTokens = config.labelMaxTokens ?? (this.hasLabels ? 64 : 512);
    const window = teacher.model.contextWindow;
    this.maxPromptTokens =
      config.maxPromptTokens ?? (window ? Math.max(256, window - Math.max(this.generationMaxTokens, this.labelMaxTokens)) : 6000);
    this.lookahead = Math.max(1, config.lookahead ?? 8);
    this.seed = config.seed ?? 0;
    this.stage = config.stage ?? 'generate';
    this.quality = qualityOptionsFor(spec, config.quality);
    this.contamination = new ContaminationIndex(options.evaluationSet ?? [], config.decontamination);
    this.near = new NearDuplicateIndex({ threshold: config.nearDuplicateThreshold ?? 0.8 });
    this.maxUnproductive = config.maxUnproductiveRequests ?? 25;
    this.signal = AbortSignal.any([context.signal, this.abort.signal]);
    this.labelSlots = new Slots(config.labelConcurrency ?? Math.max(4, 2 * context.scheduler.options.maxConcurrency));
    this.budgetAwareIssuing = config.budgetAwareIssuing ?? true;
  }

  async execute(): Promise<GenerationSummary> {
    const target = this.options.numExamples;
    const ledgerStart = this.context.ledger.snapshot();
    const calls = { paid: 0, cached: 0 };
    const unsubscribe = this.context.events.on((event) => {
      if (event.type === 'usage' && event.stage === this.stage) event.cached ? calls.cached++ : calls.paid++;
    });
    // The user's own examples count for dedup: a generated copy of one is no new data.
    for (const example of this.spec.examples) this.remember(example.input, this.near.signature(example.input), -1);
    const resumedRows = await this.resume();
    this.spentAtStart = this.context.ledger.totalUsd;
    this.unitsAtStart = this.committedUnits;
    const dataset = await JsonlWriter.open(this.options.outputPath);
    const log = await JsonlWriter.open(progressLogPath(this.options.outputPath));
    let stoppedBy: GenerationStopReason = 'target';
    const inFlight = new Map<number, Promise<{ ok: true; value: UnitResult } | { ok: false; error: unknown }>>();
    let nextUnit = this.committedUnits;
    try {
      this.emitProgress();
      while (this.accepted < target) {
        while (nextUnit < this.committedUnits + this.lookahead && (inFlight.size === 0 || this.shouldIssue(inFlight.size))) {
          const unit = nextUnit++;
          inFlight.set(
            unit,
            this.runUnit(unit).then(
              (value) => ({ ok: true as const, value }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
          );
        }
        const head = inFlight.get(this.committedUnits)!;
        const outcome = await head;
        inFlight.delete(this.committedUnits);
        if (!outcome.ok) {
          if (BudgetExceededError.isInstance(outcome.error)) {
            stoppedBy = 'budget';
            this.context.events.log('warn', (outcome.error as Error).message, this.stage);
            break;
          }
          if (this.context.signal.aborted) throw new AbortError(undefined, this.context.signal.reason);
          throw outcome.error;
        }
        await this.commit(outcome.value, dataset, log);
        this.emitProgress();
        if (this.accepted < target && this.unproductiveInARow >= this.maxUnproductive) {
          stoppedBy = 'exhausted';
          this.context.events.log(
            'warn',
            `The last ${this.unproductiveInARow} generation requests added no new example; stopping at ${this.accepted} of ${target}. Raise the temperature, add varied examples to the prompt, or lower the near-duplicate threshold.`,
            this.stage,
          );
          break;
        }
      }
    } finally {
      // Requests still running are not needed (target met, budget hit or an error): cancel them.
      this.abort.abort(new AbortError('Generation finished.'));
      await Promise.allSettled(inFlight.values());
      await dataset.sync().catch(() => undefined);
      await dataset.close();
      await log.close();
      unsubscribe();
    }
    const ledger = this.context.ledger.snapshot();
    return {
      accepted: this.accepted,
      target,
      stoppedBy,
      resumedRows,
      generationRequests: this.committedUnits,
      candidates: this.candidatesSeen,
      rejected: { ...this.rejected },
      teacher: this.teacher.modelId,
      calls,
      tokens: { input: ledger.inputTokens - ledgerStart.inputTokens, output: ledger.outputTokens - ledgerStart.outputTokens },
      costUsd: ledger.usd - ledgerStart.usd,
      totalCostUsd: ledger.usd,
    };
  }

  /** Whether one more unit is worth starting, given what the ones in flight are expected to add. */
  private shouldIssue(inFlightCount: number): boolean {
    const perUnit = this.choices * this.examplesPerChoice;
    // Before any unit is committed assume half the candidates survive; then use what was observed.
    const expected = this.committedUnits > 0 ? Math.max(this.accepted / this.committedUnits, 0.05) : perUnit / 2;
    if (this.accepted + inFlightCount * expected >= this.options.numExamples) return false;
    // Under a budget cap, run only as many units as the money left can finish: parallel units
    // that all stop half-way at the cap would leave nothing to keep.
    const ledger = this.context.ledger;
    if (ledger.maxCostUsd !== undefined && this.budgetAwareIssuing) {
      const spent = ledger.totalUsd - this.spentAtStart;
      const finished = this.committedUnits - this.unitsAtStart;
      // Learn what a unit costs from the first one; free units (cache hits, unpriced local models)
      // need no throttling.
      if (finished === 0) return false;
      const costPerUnit = spent / finished;
      return costPerUnit === 0 || (inFlightCount + 1) * costPerUnit <= ledger.remainingUsd;
    }
    return true;
  }

  /** Rebuilds committed state from the progress log and the dataset file. Returns the rows kept. */
  private async resume(): Promise<number> {
    const datasetPath = this.options.outputPath;
    const logPath = progressLogPath(datasetPath);
    const datasetRows = await repairJsonlTail(datasetPath);
    await repairJsonlTail(logPath);
    const logExists = await exists(logPath);
    if (!logExists) {
      if (datasetRows > 0) {
        throw new ValidationError({
          subject: datasetPath,
          issues: [{ path: '', message: `has ${datasetRows} rows but no progress log (${logPath}), so it was not written by this generator` }],
          hint: 'Move the file away or choose another output folder; the generator only resumes its own output.',
        });
      }
      return 0;
    }
    const lines: ProgressLine[] = [];
    for await (const raw of readJsonl<unknown>(logPath, { tolerateTruncatedTail: true })) {
      const parsed = ProgressLineSchema.safeParse(raw);
      // The log is read up to its first damaged or out-of-order line; later units run again.
      if (!parsed.success || parsed.data.unit !== lines.length) break;
      lines.push(parsed.data as ProgressLine);
    }
    const logRows = lines.reduce((sum, line) => sum + line.rows, 0);
    if (datasetRows < logRows) {
      // The dataset lost rows the log says were written (edited by hand?): start over. Every call
      // is in the cache, so regenerating costs nothing but time.
      this.context.events.log('warn', `${datasetPath} has fewer rows than its progress log; regenerating it from the cache.`, this.stage);
      await truncateJsonlRows(datasetPath, 0);
      await truncateJsonlRows(logPath, 0);
      return 0;
    }
    // Rows past the log's count belong to a request whose commit was cut short: it runs again.
    if (datasetRows > logRows) await truncateJsonlRows(datasetPath, logRows);
    await truncateJsonlRows(logPath, lines.length);
    let unit = 0;
    let rowsInUnit = 0;
    let row = 0;
    for await (const example of readJsonl<Example>(datasetPath)) {
      if (row >= logRows) break;
      while (rowsInUnit >= (lines[unit]?.rows ?? Infinity)) {
        unit++;
        rowsInUnit = 0;
      }
      this.remember(example.input, this.near.signature(example.input), unit);
      this.addToPool({ input: example.input, output: example.output, unit });
      rowsInUnit++;
      row++;
    }
    for (const line of lines) this.recordUnit(line);
    return logRows;
  }

  private recordUnit(line: ProgressLine): void {
    this.accepted += line.rows;
    this.candidatesSeen += line.candidates;
    for (const [reason, count] of Object.entries(line.rejected)) {
      const key = reason as RejectionReason;
      this.rejected[key] = (this.rejected[key] ?? 0) + (count ?? 0);
    }
    this.cumulativeRows.push(this.accepted);
    this.committedUnits++;
    this.unproductiveInARow = line.rows > 0 ? 0 : this.unproductiveInARow + 1;
  }

  private remember(input: string, signature: Uint32Array, unit: number): void {
    const key = hash52(normalizeText(input));
    if (!this.exact.has(key)) this.exact.set(key, unit);
    this.near.add(signature);
    this.indexUnits.push(unit);
  }

  private addToPool(entry: PoolEntry): void {
    this.pool.push(entry);
    // Keep enough recent rows that "the last N rows as of request j - lookahead" is always here.
    const keep = this.poolSize + this.lookahead * this.choices * this.examplesPerChoice;
    if (this.pool.length > keep * 2) this.pool = this.pool.slice(-keep);
  }

  /**
   * One unit of work: an input-generation request built only from the committed state as of unit
   * `unit - lookahead` (so it is reproducible), then the vote on each surviving candidate.
   */
  private async runUnit(unit: number): Promise<UnitResult> {
    const snapshot = unit - this.lookahead;
    const acceptedAtSnapshot = snapshot >= 0 ? (this.cumulativeRows[snapshot] ?? this.accepted) : 0;
    const random = seededRandom(`${this.seed}:${unit}`);
    const demonstrations = shuffled(this.spec.examples, random);
    const recent = this.pool.filter((entry) => entry.unit <= snapshot).slice(-this.poolSize);
    const previous = sampleWithoutReplacement(recent, this.previousInPrompt, random).map(({ input, output }) => ({ input, output }));
    const target = Math.max(1, this.options.numExamples);
    // Progress as of this unit, estimated from the snapshot only (so it is reproducible): what was
    // accepted then, plus the units since at the rate seen so far.
    const estimated = snapshot >= 0 ? acceptedAtSnapshot + (this.lookahead - 1) * (acceptedAtSnapshot / (snapshot + 1)) : 0;
    const temperature = this.schedule({
      accepted: acceptedAtSnapshot,
      target: this.options.numExamples,
      fraction: Math.min(1, estimated / target),
    });
    const prompt = buildInputGenerationPrompt({
      spec: this.spec,
      demonstrations,
      previous,
      examplesPerChoice: this.examplesPerChoice,
      maxPromptTokens: this.maxPromptTokens,
    });
    const promptHash = hashMessages(prompt.messages);
    const response = await this.teacher.generate(
      {
        messages: prompt.messages,
        n: this.choices,
        temperature,
        maxTokens: this.generationMaxTokens,
        // A distinct seed per unit: two units with the same prompt are still different requests,
        // and providers that honour `seed` answer a rerun the same way.
        seed: fnv1a32(`${this.seed}:${unit}`) & 0x7fffffff,
        responseFormat: { type: 'json', schema: GENERATED_EXAMPLES_SCHEMA, name: 'examples' },
      },
      { sampleIndex: unit, signal: this.signal, stage: this.stage },
    );
    const rejected: Partial<Record<RejectionReason, number>> = {};
    const reject = (reason: RejectionReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
    const survivors: Array<{ input: string; signature: Uint32Array; inputHash: number }> = [];
    const unitHashes = new Set<number>();
    let candidates = 0;
    for (const choice of response.choices) {
      const parsed = parseGeneratedCandidates(choice.text);
      if (!parsed || parsed.length === 0) {
        reject('unparseable');
        continue;
      }
      // At most what was asked for: keeps a unit's size bounded (and the prompt pool big enough).
      for (const item of parsed.slice(0, this.examplesPerChoice)) {
        candidates++;
        const input = standardizeInput(item.input);
        const problem = checkInput(input, this.quality);
        if (problem) {
          reject(problem);
          continue;
        }
        if (this.contamination.isContaminated({ input })) {
          reject('contaminated');
          continue;
        }
        // Dedup against the state this unit is built from (reproducible) and within the unit; the
        // final check against everything committed happens at commit.
        const inputHash = hash52(normalizeText(input));
        const seenUnit = this.exact.get(inputHash);
        if (unitHashes.has(inputHash) || (seenUnit !== undefined && seenUnit <= snapshot)) {
          reject('duplicate');
          continue;
        }
        const signature = this.near.signature(input);
        const nearMatch =
          survivors.some((other) => estimateSimilarity(other.signature, signature) >= this.near.threshold) ||
          this.near.findNearDuplicate(signature, { accept: (id) => this.indexUnits[id]! <= snapshot }) !== undefined;
        if (nearMatch) {
          reject('near-duplicate');
          continue;
        }
        unitHashes.add(inputHash);
        survivors.push({ input, signature, inputHash });
      }
    }
    const votes = await Promise.all(survivors.map((survivor) => this.labelSlots.use(() => this.label(survivor.input))));
    const labelled: Candidate[] = [];
    survivors.forEach((survivor, index) => {
      const result = votes[index]!;
      if ('reason' in result) {
        reject(result.reason);
        return;
      }
      labelled.push({
        input: survivor.input,
        output: result.output,
        signature: survivor.signature,
        inputHash: survivor.inputHash,
        meta: {
          source: 'generated',
          teacher: this.teacher.modelId,
          temperature,
          labelTemperature: this.labelTemperature,
          promptHash,
          labelPromptHash: result.promptHash,
          votes: result.votes,
          agreement: result.agreement,
          samples: result.samples,
        },
      });
    });
    return { unit, candidates, labelled, rejected };
  }

  /** Self-consistency: k samples, more while the vote is split, then the quality checks on the winner. */
  private async label(
    input: string,
  ): Promise<
    | { output: string; votes: Record<string, number>; agreement: number; samples: number; promptHash: string }
    | { reason: RejectionReason }
  > {
    let prompt;
    try {
      prompt = buildLabelPrompt({ spec: this.spec, input, demonstrations: this.spec.examples, maxPromptTokens: this.maxPromptTokens });
    } catch (error) {
      if (Prompt2ModelError.isInstance(error)) return { reason: 'input-too-long' };
      throw error;
    }
    const request: Omit<LanguageModelRequest, 'n'> = {
      messages: prompt.messages,
      temperature: this.labelTemperature,
      maxTokens: this.labelMaxTokens,
    };
    const options = { signal: this.signal, stage: this.stage };
    // Label sets: count "Positive." and "positive" as one answer and vote in the label's spelling.
    const canonical = (text: string) => {
      const standardized = standardizeOutput(text);
      return this.quality.labels ? (matchLabel(standardized, this.quality.labels) ?? standardized) : standardized;
    };
    const samples = (await this.teacher.sample(request, this.k, { ...options, sampleIndex: 0 })).map(canonical);
    let vote = selfConsistencyVote(samples);
    for (let round = 1; vote && (vote.tied || !vote.majority) && samples.length < this.maxSamples; round++) {
      const extra = Math.min(2, this.maxSamples - samples.length);
      // `seed` keeps each extra round a distinct request, not a repeat of the first.
      samples.push(...(await this.teacher.sample({ ...request, seed: round }, extra, { ...options, sampleIndex: round })).map(canonical));
      vote = selfConsistencyVote(samples);
    }
    if (!vote) return { reason: 'empty-output' };
    const checked = checkOutput(input, vote.output, this.quality);
    if (checked.reason) return { reason: checked.reason };
    if (vote.agreement < this.minAgreement) return { reason: 'low-agreement' };
    return {
      output: checked.output,
      votes: vote.votes,
      agreement: Math.round(vote.agreement * 1000) / 1000,
      samples: samples.length,
      promptHash: hashMessages(prompt.messages),
    };
  }

  /** Adds a finished unit's examples in order, after the final dedup against everything committed. */
  private async commit(result: UnitResult, dataset: JsonlWriter, log: JsonlWriter): Promise<void> {
    const rejected = { ...result.rejected };
    const reject = (reason: RejectionReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
    let rows = 0;
    for (const candidate of result.labelled) {
      if (this.accepted + rows >= this.options.numExamples) break;
      if (this.exact.has(candidate.inputHash)) {
        reject('duplicate');
        continue;
      }
      if (this.near.findNearDuplicate(candidate.signature)) {
        reject('near-duplicate');
        continue;
      }
      const example: Example = { input: candidate.input, output: candidate.output, meta: candidate.meta };
      await dataset.write(example);
      this.remember(candidate.input, candidate.signature, result.unit);
      this.addToPool({ input: candidate.input, output: candidate.output, unit: result.unit });
      rows++;
    }
    const line: ProgressLine = { unit: result.unit, rows, candidates: result.candidates, rejected };
    // The log line is written after the rows: a crash in between leaves rows that resume drops.
    await log.write(line);
    this.recordUnit(line);
  }

  private emitProgress(): void {
    const count = (...reasons: RejectionReason[]) => reasons.reduce((sum, reason) => sum + (this.rejected[reason] ?? 0), 0);
    const snapshot = this.context.ledger.snapshot();
    this.context.events.emit({
      type: 'progress',
      stage: this.stage,
      done: this.accepted,
      total: this.options.numExamples,
      counters: {
        duplicates: count('duplicate', 'near-duplicate'),
        lowAgreement: count('low-agreement'),
        filtered: count(
          'unparseable',
          'empty-input',
          'empty-output',
          'input-too-long',
          'output-too-long',
          'output-equals-input',
          'instruction-echo',
          'invalid-label',
          'contaminated',
        ),
        // Cost is shown by the renderer from usage events; tokens are not on the interactive bar.
        tokens: snapshot.inputTokens + snapshot.outputTokens,
      },
    });
  }
}

/**
 * Short hash of a prompt for provenance. The messages are built here with a fixed key order, so
 * plain JSON is already canonical (and far cheaper than a key-sorting serialisation per call).
 */
function hashMessages(messages: readonly ChatMessage[]): string {
  return sha256(JSON.stringify(messages.map((message) => [message.role, message.content]))).slice(0, 16);
}

/** A counting semaphore: at most `size` tasks run at once, the rest wait in order. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

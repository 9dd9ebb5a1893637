import {
  AbortError,
  BudgetExceededError,
  type DatasetGeneratorOptions,
  type Demonstration,
  type Example,
  type LanguageModelClient,
  type PromptSpec,
  type StageContext,
} from '@prompt2model/core/internal';
import pLimit, { type LimitFunction } from 'p-limit';
import { CandidateFilter, type ScreenedInput } from './candidate-filter.js';
import type { GenerationStopReason, GenerationSummary, LabelNoiseSummary, PromptBasedDatasetGeneratorOptions } from './generator.js';
import { addAgreementStats, emptyAgreementStats, estimateLabelNoise, type AgreementStats, type LabelNoiseEstimate } from './label-noise.js';
import { SelfConsistencyLabeller, hashMessages } from './labeller.js';
import { GenerationProgressLog, type ProgressLine } from './progress-log.js';
import { GENERATED_EXAMPLES_SCHEMA, buildInputGenerationPrompt } from './prompts.js';
import type { RejectionReason } from './quality.js';
import { linearTemperatureSchedule, type TemperatureSchedule } from './temperature.js';
import { fnv1a32, sampleWithoutReplacement, seededRandom, shuffled } from './text.js';

interface Candidate extends ScreenedInput {
  output: string;
  confidence: number;
  meta: Record<string, unknown>;
}

interface UnitResult {
  unit: number;
  candidates: number;
  labelled: Candidate[];
  rejected: Partial<Record<RejectionReason, number>>;
  labels: AgreementStats;
}

interface PoolEntry extends Demonstration {
  unit: number;
}

/**
 * One call of `generate`: issues units (an input-generation request, then the labelling of its
 * surviving candidates) up to `lookahead` ahead of the commit point, commits them in unit order
 * through the progress log, and stops at the target, the budget or when the teacher runs dry.
 * Screening is the CandidateFilter's job, labelling the SelfConsistencyLabeller's, files the
 * GenerationProgressLog's.
 */
export class GenerationRun {
  private readonly schedule: TemperatureSchedule;
  private readonly choices: number;
  private readonly examplesPerChoice: number;
  private readonly previousInPrompt: number;
  private readonly poolSize: number;
  private readonly maxPromptTokens: number;
  private readonly generationMaxTokens: number;
  private readonly lookahead: number;
  private readonly seed: number;
  private readonly stage: string;
  private readonly filter: CandidateFilter;
  private readonly labeller: SelfConsistencyLabeller;
  private readonly labelTemperature: number;
  private readonly maxUnproductive: number;
  private readonly labelCount: number | undefined;
  private readonly budgetAwareIssuing: boolean;

  // Committed state, in commit (= unit) order.
  private accepted = 0;
  private committedUnits = 0;
  private candidatesSeen = 0;
  private readonly rejected: Partial<Record<RejectionReason, number>> = {};
  private readonly cumulativeRows: number[] = [];
  // Agreement counts after each committed unit: the noise estimate a later unit votes with.
  private readonly cumulativeAgreement: AgreementStats[] = [];
  private readonly agreement = emptyAgreementStats();
  private keptConfidence = 0;
  private pool: PoolEntry[] = [];
  private unproductiveInARow = 0;
  private spentAtStart = 0;
  private unitsAtStart = 0;

  // Labelling calls started but not finished. Bounded to a little more than the scheduler runs at
  // once: enough to keep it busy, while prompts are not built long before they can be sent.
  private readonly labelSlots: LimitFunction;
  private readonly abort = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly spec: PromptSpec,
    private readonly options: DatasetGeneratorOptions,
    private readonly context: StageContext,
    private readonly teacher: LanguageModelClient,
    config: PromptBasedDatasetGeneratorOptions,
  ) {
    const hasLabels = (spec.labels?.length ?? 0) > 0;
    this.labelCount = hasLabels ? spec.labels!.length : undefined;
    const k = config.samplesPerInput ?? 3;
    this.schedule = config.temperatureSchedule ?? linearTemperatureSchedule(0.5, 1.4);
    this.labelTemperature = config.labelTemperature ?? 0.7;
    this.choices = Math.max(1, Math.min(config.choicesPerRequest ?? 4, teacher.maxChoicesPerRequest));
    this.examplesPerChoice = Math.max(1, config.examplesPerChoice ?? 3);
    this.previousInPrompt = config.previousExamplesInPrompt ?? 5;
    this.poolSize = Math.max(this.previousInPrompt, config.previousExamplePool ?? 200);
    this.generationMaxTokens = config.generationMaxTokens ?? 300 * this.examplesPerChoice;
    const labelMaxTokens = config.labelMaxTokens ?? (hasLabels ? 64 : 512);
    const window = teacher.model.contextWindow;
    this.maxPromptTokens =
      config.maxPromptTokens ?? (window ? Math.max(256, window - Math.max(this.generationMaxTokens, labelMaxTokens)) : 6000);
    // Deep enough to keep a fast rate limit busy (16 units), but never more units in flight than
    // about a quarter of the target needs: a small run would otherwise pay for work past its target.
    const unitsNeeded = Math.ceil(Math.max(1, options.numExamples) / (this.choices * this.examplesPerChoice));
    this.lookahead = Math.max(1, config.lookahead ?? Math.min(16, Math.max(8, Math.ceil(unitsNeeded / 4))));
    this.seed = config.seed ?? 0;
    this.stage = config.stage ?? 'generate';
    this.filter = new CandidateFilter(spec, {
      ...(config.quality ? { quality: config.quality } : {}),
      ...(config.decontamination ? { decontamination: config.decontamination } : {}),
      ...(options.evaluationSet ? { evaluationSet: options.evaluationSet } : {}),
      ...(config.nearDuplicateThreshold !== undefined ? { nearDuplicateThreshold: config.nearDuplicateThreshold } : {}),
    });
    this.maxUnproductive = config.maxUnproductiveRequests ?? 25;
    this.signal = AbortSignal.any([context.signal, this.abort.signal]);
    this.labeller = new SelfConsistencyLabeller({
      spec,
      teacher,
      quality: this.filter.quality,
      samplesPerInput: k,
      maxSamplesPerInput: Math.max(k, config.maxSamplesPerInput ?? Math.max(15, k + 6)),
      minAgreement: config.minAgreement ?? 0.5,
      confidenceTarget: config.confidenceTarget ?? 0.99,
      temperature: this.labelTemperature,
      seed: this.seed,
      maxTokens: labelMaxTokens,
      maxPromptTokens: this.maxPromptTokens,
      signal: this.signal,
      stage: this.stage,
    });
    this.labelSlots = pLimit(config.labelConcurrency ?? Math.max(4, 2 * context.scheduler.options.maxConcurrency));
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
    for (const example of this.spec.examples) this.filter.remember(example.input, -1);
    const lines = await GenerationProgressLog.resume(
      this.options.outputPath,
      (example, unit) => {
        this.filter.remember(example.input, unit);
        this.addToPool({ input: example.input, output: example.output, unit });
      },
      (message) => this.context.events.log('warn', message, this.stage),
    );
    for (const line of lines) this.recordUnit(line);
    const resumedRows = this.accepted;
    this.spentAtStart = this.context.ledger.totalUsd;
    this.unitsAtStart = this.committedUnits;
    const files = await GenerationProgressLog.open(this.options.outputPath);
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
        await this.commit(outcome.value, files);
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
      await files.close();
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
      labelNoise: this.labelNoiseSummary(),
      // The data statistics of core's generation-summary schema, which the model card and report read.
      meanAgreement: this.accepted > 0 ? round(this.keptConfidence / this.accepted, 4) : 0,
      duplicates: (this.rejected.duplicate ?? 0) + (this.rejected['near-duplicate'] ?? 0),
      decontaminated: this.rejected.contaminated ?? 0,
    };
  }

  /** The noise estimate over every vote so far (this and earlier runs), for the summary. */
  private labelNoiseSummary(): LabelNoiseSummary {
    const stats = this.agreement;
    const estimate = estimateLabelNoise(stats, this.labelCount);
    return {
      estimatedNoise: round(estimate.noise, 4),
      expectedAccuracy: this.accepted > 0 ? round(this.keptConfidence / this.accepted, 4) : 0,
      answerConcentration: round(estimate.concentration, 3),
      inputsVoted: stats.inputs,
      votesPerInput: stats.inputs > 0 ? round(stats.samples / stats.inputs, 2) : 0,
      firstRoundVotes: stats.votes,
      firstRoundDisagreeing: stats.disagreeing,
    };
  }

  private estimateAt(snapshot: number): LabelNoiseEstimate {
    return estimateLabelNoise(snapshot >= 0 ? (this.cumulativeAgreement[snapshot] ?? this.agreement) : emptyAgreementStats(), this.labelCount);
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

  private recordUnit(line: ProgressLine): void {
    this.accepted += line.rows;
    this.candidatesSeen += line.candidates;
    for (const [reason, count] of Object.entries(line.rejected)) {
      const key = reason as RejectionReason;
      this.rejected[key] = (this.rejected[key] ?? 0) + (count ?? 0);
    }
    this.cumulativeRows.push(this.accepted);
    if (line.labels) {
      addAgreementStats(this.agreement, line.labels);
      this.keptConfidence += line.labels.keptConfidence ?? 0;
    }
    this.cumulativeAgreement.push({ ...this.agreement });
    this.committedUnits++;
    this.unproductiveInARow = line.rows > 0 ? 0 : this.unproductiveInARow + 1;
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
      // Units commit in order: the scheduler starts an earlier unit's calls (its votes, its retries)
      // before a later unit's, so the commit point never waits behind work queued after it.
      { sampleIndex: unit, signal: this.signal, stage: this.stage, priority: unit },
    );
    const screened = this.filter.screen(
      response.choices.map((choice) => choice.text),
      snapshot,
      this.examplesPerChoice,
    );
    const rejected = screened.rejected;
    const reject = (reason: RejectionReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
    const survivors = screened.survivors;
    const estimate = this.estimateAt(snapshot);
    const votes = await Promise.all(survivors.map((survivor) => this.labelSlots(() => this.labeller.label(survivor.input, estimate, unit))));
    const labelled: Candidate[] = [];
    const labels = emptyAgreementStats();
    survivors.forEach((survivor, index) => {
      const result = votes[index]!;
      if (result.stats) addAgreementStats(labels, result.stats);
      if ('reason' in result) {
        reject(result.reason);
        return;
      }
      labelled.push({
        ...survivor,
        output: result.output,
        confidence: result.confidence,
        meta: {
          source: 'generated',
          teacher: this.teacher.modelId,
          temperature,
          labelTemperature: this.labelTemperature,
          promptHash,
          labelPromptHash: result.promptHash,
          votes: result.votes,
          agreement: result.agreement,
          confidence: result.confidence,
          samples: result.samples,
        },
      });
    });
    return { unit, candidates: screened.candidates, labelled, rejected, labels };
  }

  /** Adds a finished unit's examples in order, after the final dedup against everything committed. */
  private async commit(result: UnitResult, files: GenerationProgressLog): Promise<void> {
    const rejected = { ...result.rejected };
    const reject = (reason: RejectionReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
    let rows = 0;
    let keptConfidence = 0;
    for (const candidate of result.labelled) {
      if (this.accepted + rows >= this.options.numExamples) break;
      const duplicate = this.filter.duplicateOf(candidate);
      if (duplicate) {
        reject(duplicate);
        continue;
      }
      const example: Example = { input: candidate.input, output: candidate.output, meta: candidate.meta };
      await files.writeRow(example);
      this.filter.remember(candidate.input, result.unit, candidate.signature);
      this.addToPool({ input: candidate.input, output: candidate.output, unit: result.unit });
      keptConfidence += candidate.confidence;
      rows++;
    }
    const line: ProgressLine = {
      unit: result.unit,
      rows,
      candidates: result.candidates,
      rejected,
      labels: { ...result.labels, keptConfidence: round(keptConfidence, 4) },
    };
    // The log line is written after the rows: a crash in between leaves rows that resume drops.
    await files.writeLine(line);
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

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

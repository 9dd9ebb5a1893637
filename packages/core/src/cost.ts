import { InvalidArgumentError } from './errors/invalid-argument-error.js';
import { BudgetExceededError } from './errors/budget-exceeded-error.js';
import type { ProgressEmitter } from './events.js';
import type { TokenUsage } from './language-model.js';

/** USD per one million tokens. */
export interface TokenPrice {
  inputPer1M: number;
  outputPer1M: number;
}

/**
 * Default price table (USD per 1M tokens, list prices). Edit it or pass your own `prices`; a model
 * matches the longest key that its id starts with, so `gpt-4o-mini-2024-07-18` uses `gpt-4o-mini`.
 */
export const DEFAULT_TOKEN_PRICES: Record<string, TokenPrice> = {
  'gpt-4o-mini': { inputPer1M: 0.15, outputPer1M: 0.6 },
  'gpt-4o': { inputPer1M: 2.5, outputPer1M: 10 },
  'gpt-4.1-nano': { inputPer1M: 0.1, outputPer1M: 0.4 },
  'gpt-4.1-mini': { inputPer1M: 0.4, outputPer1M: 1.6 },
  'gpt-4.1': { inputPer1M: 2, outputPer1M: 8 },
  'gpt-3.5-turbo': { inputPer1M: 0.5, outputPer1M: 1.5 },
  'gpt-5-nano': { inputPer1M: 0.05, outputPer1M: 0.4 },
  'gpt-5-mini': { inputPer1M: 0.25, outputPer1M: 2 },
  'gpt-5': { inputPer1M: 1.25, outputPer1M: 10 },
  'o4-mini': { inputPer1M: 1.1, outputPer1M: 4.4 },
};

export interface CostSnapshot {
  usd: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Running cost of a run: prices calls by model, keeps totals, and enforces a budget cap. Paid work
 * asks `assertCanSpend` before each call, so the cap stops new spending rather than noticing it after.
 */
export class CostLedger {
  private readonly prices: Record<string, TokenPrice>;
  private totals: CostSnapshot;
  readonly maxCostUsd: number | undefined;
  private readonly events: ProgressEmitter | undefined;
  private readonly unpriced = new Set<string>();
  private reservedUsd = 0;

  constructor(options: { prices?: Record<string, TokenPrice>; maxCostUsd?: number; initial?: CostSnapshot; events?: ProgressEmitter } = {}) {
    this.prices = { ...DEFAULT_TOKEN_PRICES, ...options.prices };
    this.maxCostUsd = options.maxCostUsd;
    this.totals = { usd: 0, inputTokens: 0, outputTokens: 0, ...options.initial };
    this.events = options.events;
  }

  /** The price of a model, or undefined when the table has none (local servers are free). */
  priceFor(modelId: string): TokenPrice | undefined {
    const normalized = modelId.replace(/^ft:/, '');
    let best: string | undefined;
    for (const key of Object.keys(this.prices)) {
      if (normalized.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
    }
    return best === undefined ? undefined : this.prices[best];
  }

  costOf(modelId: string, usage: TokenUsage): number {
    const price = this.priceFor(modelId);
    if (!price) return 0;
    return (usage.inputTokens * price.inputPer1M + usage.outputTokens * price.outputPer1M) / 1_000_000;
  }

  /** Records a paid call; returns its cost. */
  record(modelId: string, usage: TokenUsage): number {
    if (!this.priceFor(modelId) && !this.unpriced.has(modelId)) {
      this.unpriced.add(modelId);
      this.events?.log('warn', `No price known for model "${modelId}": its calls count as $0. Add it to the price table to track cost.`);
    }
    const cost = this.costOf(modelId, usage);
    this.totals = {
      usd: this.totals.usd + cost,
      inputTokens: this.totals.inputTokens + usage.inputTokens,
      outputTokens: this.totals.outputTokens + usage.outputTokens,
    };
    return cost;
  }

  /**
   * Records a charge known in dollars rather than tokens (a managed fine-tuning job, GPU hours),
   * so the run's total and the cap include it. Returns the charge.
   */
  recordCharge(label: string, usd: number): number {
    if (!Number.isFinite(usd) || usd < 0) {
      throw new InvalidArgumentError({ argument: 'usd', value: usd, message: `A charge must be a non-negative amount of USD, got ${usd} for ${label}.` });
    }
    this.totals = { ...this.totals, usd: this.totals.usd + usd };
    this.events?.log('debug', `charge: ${label} $${usd.toFixed(4)}`);
    return usd;
  }

  get totalUsd(): number {
    return this.totals.usd;
  }

  snapshot(): CostSnapshot {
    return { ...this.totals };
  }

  /** Remaining budget in USD (Infinity without a cap). */
  get remainingUsd(): number {
    return this.maxCostUsd === undefined ? Infinity : Math.max(0, this.maxCostUsd - this.totals.usd);
  }

  /** Throws BudgetExceededError when spending `estimatedUsd` more (besides calls in flight) would pass the cap. */
  assertCanSpend(estimatedUsd = 0): void {
    if (this.maxCostUsd === undefined) return;
    if (this.totals.usd >= this.maxCostUsd || this.totals.usd + this.reservedUsd + estimatedUsd > this.maxCostUsd) {
      throw new BudgetExceededError({ spentUsd: this.totals.usd, maxCostUsd: this.maxCostUsd });
    }
  }

  /**
   * Checks the cap for a call about to be made and holds its expected cost until `release()` (call
   * it once the real cost is recorded, or the call failed). Calls in flight at once then count
   * against the cap together, so concurrency cannot carry spending far past it.
   */
  reserve(estimatedUsd: number): () => void {
    this.assertCanSpend(estimatedUsd);
    const amount = Math.max(0, estimatedUsd);
    this.reservedUsd += amount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reservedUsd = Math.max(0, this.reservedUsd - amount);
    };
  }
}

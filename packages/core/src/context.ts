import { LLMCallCache } from './cache.js';
import { CostLedger, type TokenPrice } from './cost.js';
import { ProgressEmitter } from './events.js';
import type { LanguageModel } from './language-model.js';
import { LanguageModelClient } from './language-model-client.js';
import { RequestScheduler, type RequestSchedulerOptions, type RetryInfo } from './scheduler.js';
import { APICallError } from './errors/api-call-error.js';
import { RunStore } from './run-store.js';

/** What every stage receives: the shared mechanisms of one run. */
export interface StageContext {
  store: RunStore;
  events: ProgressEmitter;
  ledger: CostLedger;
  scheduler: RequestScheduler;
  cache: LLMCallCache | undefined;
  /** The teacher LLM, wrapped with scheduler, cache and ledger; undefined when none is configured. */
  teacher: LanguageModelClient | undefined;
  signal: AbortSignal;
}

export interface CreateStageContextOptions {
  /** Run folder. */
  outDir: string;
  teacher?: LanguageModel;
  scheduler?: RequestSchedulerOptions | RequestScheduler;
  /**
   * Cache folder for LLM calls; default `<outDir>/cache`; `false` disables caching. Pass
   * `defaultLLMCacheDir()` (what the CLI uses) to share one cache, in the user's cache directory,
   * across run folders: a new folder or a lost manifest then pays for no call twice.
   */
  cacheDir?: string | false;
  maxCostUsd?: number;
  prices?: Record<string, TokenPrice>;
  events?: ProgressEmitter;
  signal?: AbortSignal;
  /** Recorded in the run manifest (secrets are dropped). */
  config?: Record<string, unknown>;
}

/**
 * Logs retries: every one at debug level; a failure other than rate limiting (which the scheduler
 * paces by itself) also as one visible line, at most every 10 s, so a struggling endpoint is never
 * a silent wait. The error message names the endpoint; keys never reach it (APICallError redacts).
 */
function retryLogger(events: ProgressEmitter): (info: RetryInfo) => void {
  let lastVisible = 0;
  return (info) => {
    const message = (info.error as Error)?.message ?? String(info.error);
    const line = `retry ${info.attempt} in ${(info.delayMs / 1000).toFixed(1)} s: ${message}`;
    const rateLimited = APICallError.isInstance(info.error) && info.error.statusCode === 429;
    if (!rateLimited && Date.now() - lastVisible >= 10_000) {
      lastVisible = Date.now();
      events.log('warn', line);
    } else {
      events.log('debug', line);
    }
  };
}

/**
 * Opens the run folder and wires the shared mechanisms. Spending recorded by earlier runs in the
 * same folder counts against `maxCostUsd`, so resuming never resets the budget.
 */
export async function createStageContext(options: CreateStageContextOptions): Promise<StageContext> {
  const store = await RunStore.open(options.outDir, options.config ? { config: options.config } : {});
  const events = options.events ?? new ProgressEmitter();
  const ledger = new CostLedger({
    maxCostUsd: options.maxCostUsd,
    prices: options.prices,
    initial: store.getManifest().cost,
    events,
  });
  const signal = options.signal ?? new AbortController().signal;
  const scheduler =
    options.scheduler instanceof RequestScheduler
      ? options.scheduler
      : new RequestScheduler({
          ...options.scheduler,
          signal,
          onRetry: retryLogger(events),
        });
  const cache = options.cacheDir === false ? undefined : new LLMCallCache(options.cacheDir ?? store.cacheDir);
  const teacher = options.teacher
    ? new LanguageModelClient({ model: options.teacher, scheduler, cache, ledger, events })
    : undefined;
  // Persist spending as it happens (throttled), so a crash never forgets what was paid.
  let lastSave = 0;
  events.on((event) => {
    if (event.type === 'usage' && !event.cached && Date.now() - lastSave > 1000) {
      lastSave = Date.now();
      void store.saveCost(ledger.snapshot()).catch(() => undefined);
    }
  });
  return { store, events, ledger, scheduler, cache, teacher, signal };
}

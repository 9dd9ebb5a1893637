import { InvalidArgumentError } from './errors/invalid-argument-error.js';
import { APICallError } from './errors/api-call-error.js';
import { AbortError } from './errors/abort-error.js';
import { sleep } from './util/sleep.js';

export interface RequestSchedulerOptions {
  /**
   * Most requests in flight at once. Default 8, or with `requestsPerMinute` enough requests for
   * 10 s of that rate (8 to 256): the RPM budget then paces the starts, and a concurrency fitted to
   * a fast local server must not cap the rate of an endpoint that answers in seconds.
   */
  maxConcurrency?: number;
  /** Requests-per-minute budget of the endpoint; requests are spaced so no 60 s window exceeds it. */
  requestsPerMinute?: number;
  /** Tokens-per-minute budget (prompt + completion, estimated before and corrected after each call). */
  tokensPerMinute?: number;
  /**
   * Fraction of the RPM/TPM budget to use (default 0.98): headroom for arrival jitter (network and
   * event-loop delays on either side), so we never trip the limit ourselves, also where an endpoint
   * enforces its per-minute limit in per-second slices (OpenAI documents that it may): at the full
   * rate, evenly spaced requests fill a 1 s window exactly, and any jitter puts one too many in it.
   */
  headroom?: number;
  /**
   * Hedging of calls that ask for it (`run(..., { hedge })`): when nothing waits for a slot or for the
   * rate budget and an attempt has run `latencyMultiple` times the typical latency of its kind (the
   * median of the last answers of that kind, once 8 are known; at least `minDelayMs`), the same call
   * is sent once more; the first answer wins and the other attempt is aborted. A hedge takes a
   * concurrency slot and a start from the RPM/TPM budget like any attempt, queues after every
   * waiting request, and hedges stay below `maxShare` of the requests started. `false` turns it off.
   * Defaults: 4, 500 ms (an answer within half a second is never worth paying twice for), 0.02.
   */
  hedging?: false | { latencyMultiple?: number; minDelayMs?: number; maxShare?: number };
  /** Retries after the first attempt for retryable errors. Default 6. */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with jitter. Default 1000 ms. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Per-attempt bound on the whole answer (headers and body). Default 300 s. A long answer may
   * take this long; a server that sends nothing at all is caught sooner by `firstByteTimeoutMs`.
   */
  timeoutMs?: number;
  /**
   * Per-attempt bound on the wait for the response headers, handed to the model
   * (`LanguageModelRequest.firstByteTimeoutMs`). Default 60 s. Non-streamed completions send
   * their headers with the answer, so this must cover the slowest single answer too.
   */
  firstByteTimeoutMs?: number;
  /**
   * Retries of a timed-out attempt while the endpoint has not answered any request yet (it may
   * accept connections and never answer). Past them every request fails at once with a
   * non-retryable APICallError that names the endpoint. Default 1.
   */
  unansweredRetries?: number;
  /** Aborts every queued and running request. */
  signal?: AbortSignal;
  /** Called before each retry, e.g. to log it. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * What a 429 pauses. `adaptive` (default) tells an endpoint that is over its limit from sporadic
   * 429s: every request waits out the Retry-After only when the 429 came while our own RPM/TPM
   * window was at the configured limit, or when 429s hit at least two different requests and make
   * up at least `rateLimitBurstShare` of the attempts that ended in the last
   * `rateLimitBurstWindowMs` (a shared quota, a lower limit than configured). A sporadic 429 (a few
   * per hundred) delays only its own retry, so the others keep the endpoint busy. `all`: every 429
   * pauses every request. `request`: a 429 only delays its own retry.
   */
  rateLimitCooldown?: 'adaptive' | 'all' | 'request';
  /** Window for `adaptive` cooldown. Default 5000 ms. */
  rateLimitBurstWindowMs?: number;
  /** Share of the attempts in that window that must be 429s for `adaptive` to pause everything. Default 0.25. */
  rateLimitBurstShare?: number;
  /** Injected for tests: source of randomness for jitter. */
  random?: () => number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface TaskContext {
  /** Aborts when the run is cancelled or this attempt times out. */
  signal: AbortSignal;
  /** 0 for the first attempt. */
  attempt: number;
  /** True for a hedge: a second attempt sent while the first is still running (see `hedging`). */
  hedge: boolean;
  /** Reports the tokens this attempt really used, replacing the estimate in the TPM window. */
  reportTokens(tokens: number): void;
  /** The longest wait for response headers the task should allow (see `firstByteTimeoutMs`). */
  firstByteTimeoutMs: number;
}

export interface SchedulerStats {
  started: number;
  succeeded: number;
  failed: number;
  retries: number;
  rateLimited: number;
  /** 429s judged "over the limit" (every request paused); the rest delayed only their own retry. */
  rateLimitPauses: number;
  /** Hedges sent (each also counts in `started`), and those that answered before the first attempt. */
  hedges: number;
  hedgeWins: number;
  inFlight: number;
  queued: number;
}

interface WindowEntry {
  at: number;
  tokens: number;
}

const WINDOW_MS = 60_000;
/** Answers of one kind kept for its typical latency, and how many are needed before hedging. */
const LATENCY_SAMPLES = 63;
const MIN_LATENCY_SAMPLES = 8;

/**
 * Concurrency when none is given: 8, or under an RPM budget as many requests as start in 10 s at
 * that rate (requests in flight = rate × latency, and LLM answers take seconds), at most 256.
 */
export function defaultConcurrency(requestsPerMinute?: number): number {
  if (requestsPerMinute === undefined || !(requestsPerMinute > 0)) return 8;
  return Math.min(256, Math.max(8, Math.ceil((requestsPerMinute / 60) * 10)));
}

/**
 * Runs every LLM call: bounded concurrency, RPM/TPM budgets, retries with exponential backoff and
 * jitter that honour Retry-After, per-attempt timeouts and cancellation. One scheduler per endpoint
 * is shared by every stage, so the budgets hold across the whole run.
 */
export class RequestScheduler {
  readonly options: Required<Omit<RequestSchedulerOptions, 'requestsPerMinute' | 'tokensPerMinute' | 'signal' | 'onRetry' | 'hedging'>> &
    Pick<RequestSchedulerOptions, 'requestsPerMinute' | 'tokensPerMinute' | 'signal' | 'onRetry'> & {
      hedging: false | Required<Exclude<RequestSchedulerOptions['hedging'], false | undefined>>;
    };
  private active = 0;
  private readonly slotWaiters: SlotWaiter[] = [];
  private readonly startWaiters: StartWaiter[] = [];
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly window: WindowEntry[] = [];
  private nextStartAt = 0;
  private lateDebtMs = 0;
  private cooldownUntil = 0;
  /** Attempts that ended within the adaptive window: when, which request, and whether a 429. */
  private readonly recentOutcomes: Array<{ at: number; request: number; rateLimited: boolean }> = [];
  private nextRequestId = 0;
  private readonly fanOut = new AbortFanOut();
  /** Whether the endpoint has answered anything (a completion or an HTTP error) since this scheduler began. */
  private answered = false;
  /** Set once the endpoint proved unusable (never answered, timed out past `unansweredRetries`): every request fails with it. */
  private unusable: APICallError | undefined;
  private readonly counters = { started: 0, succeeded: 0, failed: 0, retries: 0, rateLimited: 0, rateLimitPauses: 0, hedges: 0, hedgeWins: 0, queued: 0 };
  private hedgesLaunched = 0;
  /** Durations of the last answered attempts per hedge kind, oldest first. */
  private readonly latencies = new Map<string, number[]>();

  constructor(options: RequestSchedulerOptions = {}) {
    this.options = {
      maxConcurrency: options.maxConcurrency ?? defaultConcurrency(options.requestsPerMinute),
      headroom: options.headroom ?? 0.98,
      hedging:
        options.hedging === false
          ? false
          : { latencyMultiple: options.hedging?.latencyMultiple ?? 4, minDelayMs: options.hedging?.minDelayMs ?? 500, maxShare: options.hedging?.maxShare ?? 0.02 },
      maxRetries: options.maxRetries ?? 6,
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 300_000,
      firstByteTimeoutMs: options.firstByteTimeoutMs ?? 60_000,
      unansweredRetries: options.unansweredRetries ?? 1,
      random: options.random ?? Math.random,
      rateLimitCooldown: options.rateLimitCooldown ?? 'adaptive',
      rateLimitBurstWindowMs: options.rateLimitBurstWindowMs ?? 5000,
      rateLimitBurstShare: options.rateLimitBurstShare ?? 0.25,
      requestsPerMinute: options.requestsPerMinute,
      tokensPerMinute: options.tokensPerMinute,
      signal: options.signal,
      onRetry: options.onRetry,
    };
    if (!(this.options.maxConcurrency >= 1)) {
      throw new InvalidArgumentError({ argument: 'maxConcurrency', value: this.options.maxConcurrency, expected: 'at least 1' });
    }
  }

  get stats(): SchedulerStats {
    return { ...this.counters, inFlight: this.active };
  }

  /**
   * Runs `task` under the budgets, retrying retryable failures. `estimatedTokens` counts against
   * the TPM budget before the call starts.
   */
  async run<T>(
    task: (context: TaskContext) => Promise<T>,
    options: {
      estimatedTokens?: number;
      signal?: AbortSignal;
      target?: string;
      /**
       * Lower starts first among requests waiting for a slot or for the rate budget (default 0;
       * equal priorities start in arrival order, a retry keeping its first place). A caller that
       * commits work in order passes its position, so the work it waits on is never queued behind
       * work it cannot use yet.
       */
      priority?: number;
      /**
       * Lets the scheduler hedge this call (see `hedging`): the task may run twice at once, so it
       * must be safe to repeat (an LLM completion, not an upload). Calls of one kind take alike
       * long; the kind names them (e.g. the stage and the token limit).
       */
      hedge?: { kind: string };
    } = {},
  ): Promise<T> {
    // Each call gets its own controller, so waits and attempts register listeners on it; the run's
    // long-lived signals get one shared listener each, however many calls wait on them.
    const controller = new AbortController();
    const parents = [...new Set([this.options.signal, options.signal])].filter((s): s is AbortSignal => s !== undefined);
    for (const parent of parents) this.fanOut.subscribe(parent, controller);
    try {
      return await this.runAttempts(task, controller.signal, options.estimatedTokens ?? 0, this.nextRequestId++, options.target, options.priority ?? 0, options.hedge?.kind);
    } finally {
      for (const parent of parents) this.fanOut.unsubscribe(parent, controller);
    }
  }

  private async runAttempts<T>(
    task: (context: TaskContext) => Promise<T>,
    signal: AbortSignal,
    estimatedTokens: number,
    requestId: number,
    target: string | undefined,
    priority: number,
    hedgeKind: string | undefined,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.counters.queued++;
      try {
        await this.acquireSlot(signal, priority, requestId);
      } finally {
        this.counters.queued--;
      }
      let delayMs: number;
      try {
        const entry = await this.acquireStart(estimatedTokens, signal, priority, requestId);
        // Cancelled while waiting for its turn (a stage that has what it needs aborts the rest):
        // never start the request, so no aborted call can reject unobserved.
        if (signal.aborted) throw new AbortError(undefined, signal.reason);
        // The endpoint proved unusable while this request waited: fail now rather than wait again.
        if (this.unusable) throw this.unusable;
        this.counters.started++;
        const { result: first, attemptSignal } = this.startAttempt(task, entry, attempt, false, signal, hedgeKind);
        try {
          const result =
            hedgeKind !== undefined && this.options.hedging
              ? await this.withHedge(first, attemptSignal, signal, hedgeKind, (hedgeSignal) => this.runHedge(task, hedgeSignal, estimatedTokens, attempt, requestId, hedgeKind))
              : await first;
          this.counters.succeeded++;
          this.answered = true;
          this.recordOutcome(requestId, false);
          return result;
        } catch (rawError) {
          if (signal.aborted) throw new AbortError(undefined, signal.reason);
          const error = attemptSignal.timedOut()
            ? new APICallError({
                message: `${target ?? 'The endpoint'} sent no complete answer within ${seconds(this.options.timeoutMs)}.`,
                isRetryable: true,
                timeout: 'total',
                cause: rawError,
              })
            : rawError;
          const apiError = APICallError.isInstance(error) ? error : undefined;
          if (apiError?.statusCode !== undefined) this.answered = true;
          if (apiError?.timeout && !this.answered && attempt >= this.options.unansweredRetries) {
            this.unusable ??= this.unusableError(apiError, attempt + 1, target);
            this.counters.failed++;
            throw this.unusable;
          }
          if (apiError?.statusCode === 429) this.counters.rateLimited++;
          this.recordOutcome(requestId, apiError?.statusCode === 429);
          if (!apiError?.isRetryable || attempt >= this.options.maxRetries) {
            this.counters.failed++;
            throw error;
          }
          delayMs = this.backoffDelay(attempt, apiError);
          if (apiError.statusCode === 429) this.onRateLimited(delayMs);
          this.counters.retries++;
          this.options.onRetry?.({ attempt: attempt + 1, delayMs, error });
        } finally {
          attemptSignal.dispose();
        }
      } finally {
        this.releaseSlot();
      }
      // Wait outside the slot so other requests keep the endpoint busy meanwhile.
      await sleep(delayMs, signal);
    }
  }

  /**
   * Waits for `first`; if it runs far past the typical latency of its kind while the budget is idle,
   * sends a hedge (`startHedge`) and settles with the first answer, aborting the other attempt. A
   * failure of one waits for the other; when both fail, the first attempt's error is what the retry
   * logic sees.
   */
  private withHedge<T>(
    first: Promise<T>,
    firstSignal: { abort(reason: unknown): void },
    callSignal: AbortSignal,
    kind: string,
    startHedge: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const delayMs = this.hedgeDelayMs(kind);
    if (delayMs === undefined) return first;
    return new Promise<T>((resolve, reject) => {
      // The hedge stops when the call is cancelled or the first attempt answers.
      const hedgeSignal = linkSignals([callSignal]);
      let settled = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let hedge: 'none' | 'running' | 'failed' = 'none';
      let firstError: { error: unknown } | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        hedgeSignal.dispose();
        settle();
      };
      first.then(
        (value) => {
          if (!settled) hedgeSignal.abort(new AbortError('The first attempt answered first.'));
          finish(() => resolve(value));
        },
        (error: unknown) => {
          if (hedge === 'running') firstError = { error };
          else finish(() => reject(error));
        },
      );
      const tryHedge = () => {
        timer = undefined;
        if (settled) return;
        if (!this.canHedge()) {
          // Busy: real work goes first. Look again a little later (the tail is when this pays).
          timer = setTimeout(tryHedge, Math.max(25, delayMs / 4));
          return;
        }
        hedge = 'running';
        this.hedgesLaunched++;
        startHedge(hedgeSignal.signal).then(
          (value) => {
            if (settled) return;
            this.counters.hedgeWins++;
            firstSignal.abort(new AbortError('A hedge answered first.'));
            finish(() => resolve(value));
          },
          (error: unknown) => {
            hedge = 'failed';
            if (firstError) {
              finish(() => reject(firstError!.error));
              return;
            }
            if (settled || hedgeSignal.signal.aborted) return;
            // The first attempt still runs: another hedge later, no sooner than a Retry-After says.
            const retryAfterMs = APICallError.isInstance(error) ? (error.retryAfterMs ?? 0) : 0;
            hedge = 'none';
            timer = setTimeout(tryHedge, Math.max(delayMs, retryAfterMs));
          },
        );
      };
      timer = setTimeout(tryHedge, delayMs);
    });
  }

  /** A hedge of one attempt: a slot and a start like any attempt, but after every waiting request. */
  private async runHedge<T>(
    task: (context: TaskContext) => Promise<T>,
    signal: AbortSignal,
    estimatedTokens: number,
    attempt: number,
    requestId: number,
    kind: string,
  ): Promise<T> {
    await this.acquireSlot(signal, Number.POSITIVE_INFINITY, requestId);
    try {
      const entry = await this.acquireStart(estimatedTokens, signal, Number.POSITIVE_INFINITY, requestId);
      if (signal.aborted) throw new AbortError(undefined, signal.reason);
      this.counters.started++;
      this.counters.hedges++;
      const { result: answer, attemptSignal: hedgeSignal } = this.startAttempt(task, entry, attempt, true, signal, kind);
      try {
        const result = await answer;
        this.answered = true;
        this.recordOutcome(requestId, false);
        return result;
      } catch (error) {
        // A hedge's 429 tells about the endpoint like any other (the hedge itself is not retried).
        if (!signal.aborted && APICallError.isInstance(error) && error.statusCode === 429) {
          this.counters.rateLimited++;
          this.recordOutcome(requestId, true);
          this.onRateLimited(this.backoffDelay(attempt, error));
        }
        throw error;
      } finally {
        hedgeSignal.dispose();
      }
    } finally {
      this.releaseSlot();
    }
  }

  /**
   * Starts one attempt of `task` (a first try, a retry or a hedge) under its own controller, aborted
   * by `signal` or the attempt's timeout; the caller disposes it after the attempt, so nothing stays
   * registered on the long-lived run signal. An answer's duration feeds the typical latency of `kind`.
   */
  private startAttempt<T>(
    task: (context: TaskContext) => Promise<T>,
    entry: WindowEntry,
    attempt: number,
    hedge: boolean,
    signal: AbortSignal,
    kind: string | undefined,
  ): { result: Promise<T>; attemptSignal: ReturnType<typeof linkSignals> } {
    const attemptSignal = linkSignals([signal], this.options.timeoutMs);
    const startedAt = Date.now();
    let started: Promise<T>;
    try {
      started = task({ signal: attemptSignal.signal, attempt, hedge, reportTokens: (tokens) => (entry.tokens = tokens), firstByteTimeoutMs: this.options.firstByteTimeoutMs });
    } catch (error) {
      // A task that throws before returning its promise fails like one that rejects.
      started = Promise.reject(error);
    }
    const result = raceAbort(started, attemptSignal.signal).then((value) => {
      if (kind !== undefined) this.recordLatency(kind, Date.now() - startedAt);
      return value;
    });
    return { result, attemptSignal };
  }

  /** Hedging only fills a budget nothing else uses: no request waits, no pause, hedges under their share. */
  private canHedge(): boolean {
    const hedging = this.options.hedging;
    return (
      hedging !== false &&
      this.startWaiters.length === 0 &&
      this.slotWaiters.length === 0 &&
      this.active < this.options.maxConcurrency &&
      this.cooldownUntil <= Date.now() &&
      this.hedgesLaunched < Math.max(1, hedging.maxShare * this.counters.started)
    );
  }

  /** How long an attempt of `kind` runs before a hedge is considered; undefined until its typical latency is known. */
  private hedgeDelayMs(kind: string): number | undefined {
    const hedging = this.options.hedging;
    const samples = this.latencies.get(kind);
    if (hedging === false || !samples || samples.length < MIN_LATENCY_SAMPLES) return undefined;
    const sorted = [...samples].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    return Math.max(hedging.minDelayMs, hedging.latencyMultiple * median);
  }

  private recordLatency(kind: string, ms: number): void {
    let samples = this.latencies.get(kind);
    if (!samples) this.latencies.set(kind, (samples = []));
    samples.push(ms);
    if (samples.length > LATENCY_SAMPLES) samples.shift();
  }

  /** The endpoint timed out on every try and never answered anything: retrying cannot help. */
  private unusableError(error: APICallError, tries: number, target: string | undefined): APICallError {
    const bound = error.timeout === 'first-byte' ? this.options.firstByteTimeoutMs : this.options.timeoutMs;
    const what = error.timeout === 'first-byte' ? 'no answer (not even response headers)' : 'no complete answer';
    return new APICallError({
      message: `${target ?? error.url ?? 'The endpoint'} accepted the request but sent ${what} within ${seconds(bound)}, ${tries} ${tries === 1 ? 'time' : 'times in a row'}, and has answered nothing yet: the endpoint is unusable.`,
      ...(error.url ? { url: error.url } : {}),
      isRetryable: false,
      cause: error,
      hint:
        'Check that the server is running and serving this model (one still loading a model can take minutes). ' +
        'If its answers are just slow, raise the bound: `firstByteTimeoutMs` / `timeoutMs`.',
    });
  }

  private recordOutcome(request: number, rateLimited: boolean): void {
    const now = Date.now();
    this.recentOutcomes.push({ at: now, request, rateLimited });
    const horizon = now - this.options.rateLimitBurstWindowMs;
    let stale = 0;
    while (stale < this.recentOutcomes.length && this.recentOutcomes[stale]!.at < horizon) stale++;
    if (stale > 0) this.recentOutcomes.splice(0, stale);
  }

  private onRateLimited(delayMs: number): void {
    const mode = this.options.rateLimitCooldown;
    if (mode === 'request') return;
    if (mode === 'all' || this.overOwnBudget() || this.rateLimitedAcrossRequests()) {
      // The endpoint is over its limit: hold back every request, not only this one.
      this.counters.rateLimitPauses++;
      this.cooldownUntil = Math.max(this.cooldownUntil, Date.now() + delayMs);
    }
  }

  /**
   * True when the last 60 s (this attempt included) hold more requests than the configured RPM, or
   * the configured TPM (tokens are estimates): a 429 of a request within the RPM is the server's
   * own (a sporadic one), not our excess.
   */
  private overOwnBudget(): boolean {
    const now = Date.now();
    let requests = 0;
    let tokens = 0;
    for (const entry of this.window) {
      if (entry.at <= now - WINDOW_MS) continue;
      requests++;
      tokens += entry.tokens;
    }
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = this.options;
    return (rpm !== undefined && requests > rpm) || (tpm !== undefined && tokens >= tpm);
  }

  /** True when recent 429s hit several requests and a large share of the attempts (not a sporadic one). */
  private rateLimitedAcrossRequests(): boolean {
    const limitedRequests = new Set<number>();
    let limited = 0;
    for (const outcome of this.recentOutcomes) {
      if (!outcome.rateLimited) continue;
      limited++;
      limitedRequests.add(outcome.request);
    }
    return limitedRequests.size >= 2 && limited >= this.options.rateLimitBurstShare * this.recentOutcomes.length;
  }

  private backoffDelay(attempt: number, error: APICallError): number {
    const exponential = Math.min(this.options.maxBackoffMs, this.options.initialBackoffMs * 2 ** attempt);
    // "Equal jitter": half fixed, half random, so retries of a burst spread out.
    const jittered = exponential / 2 + (this.options.random() * exponential) / 2;
    if (error.retryAfterMs !== undefined) {
      // The server named the wait: honour it exactly, plus a little jitter so retries do not all land at once.
      return Math.max(error.retryAfterMs, 0) + this.options.random() * 100;
    }
    return jittered;
  }

  private acquireSlot(signal: AbortSignal | undefined, priority: number, order: number): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, signal.reason));
    if (this.active < this.options.maxConcurrency && this.slotWaiters.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: SlotWaiter = {
        priority,
        order,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.active++;
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.slotWaiters.indexOf(waiter);
        if (index >= 0) this.slotWaiters.splice(index, 1);
        reject(new AbortError(undefined, signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      insertInTurn(this.slotWaiters, waiter);
    });
  }

  private releaseSlot(): void {
    this.active--;
    const next = this.slotWaiters.shift();
    if (next) next.grant();
  }

  /**
   * Waits until starting one more request keeps RPM and TPM within budget. Waiting requests start
   * by priority, then in arrival order (a retry keeps the place its request first took).
   */
  private acquireStart(tokens: number, signal: AbortSignal | undefined, priority: number, order: number): Promise<WindowEntry> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, signal.reason));
    return new Promise((resolve, reject) => {
      const waiter: StartWaiter = {
        priority,
        order,
        tokens,
        start: (entry) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(entry);
        },
      };
      const onAbort = () => {
        const index = this.startWaiters.indexOf(waiter);
        if (index >= 0) this.startWaiters.splice(index, 1);
        if (this.startWaiters.length === 0 && this.startTimer) {
          clearTimeout(this.startTimer);
          this.startTimer = undefined;
        }
        reject(new AbortError(undefined, signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      insertInTurn(this.startWaiters, waiter);
      this.startWaiting();
    });
  }

  /** Starts the first waiting requests the budgets allow now, and sets a timer for the next. */
  private startWaiting(): void {
    if (this.startTimer) return;
    while (this.startWaiters.length > 0) {
      const head = this.startWaiters[0]!;
      const waitMs = this.startWaitMs(head.tokens);
      if (waitMs > 0) {
        this.startTimer = setTimeout(() => {
          this.startTimer = undefined;
          this.startWaiting();
        }, Math.ceil(waitMs));
        return;
      }
      this.startWaiters.shift();
      head.start(this.recordStart(head.tokens));
    }
  }

  /** How long until one more request of `tokens` keeps RPM and TPM within budget (0: now). */
  private startWaitMs(tokens: number): number {
    const rpm = this.options.requestsPerMinute ? this.options.requestsPerMinute * this.options.headroom : undefined;
    const tpm = this.options.tokensPerMinute ? this.options.tokensPerMinute * this.options.headroom : undefined;
    const now = Date.now();
    while (this.window.length > 0 && this.window[0]!.at <= now - WINDOW_MS) this.window.shift();
    let waitMs = Math.max(this.nextStartAt - now, this.cooldownUntil - now, 0);
    if (rpm && this.window.length >= Math.floor(rpm)) {
      waitMs = Math.max(waitMs, this.window[this.window.length - Math.floor(rpm)]!.at + WINDOW_MS - now);
    }
    if (tpm && tokens > 0) {
      let used = 0;
      for (const entry of this.window) used += entry.tokens;
      if (used + tokens > tpm && this.window.length > 0) {
        // Wait until enough old entries leave the window.
        let freed = 0;
        for (const entry of this.window) {
          freed += entry.tokens;
          if (used - freed + tokens <= tpm) {
            waitMs = Math.max(waitMs, entry.at + WINDOW_MS - now);
            break;
          }
        }
      }
    }
    return waitMs;
  }

  /** Counts a start in the window and spaces the next one. */
  private recordStart(tokens: number): WindowEntry {
    const rpm = this.options.requestsPerMinute ? this.options.requestsPerMinute * this.options.headroom : undefined;
    const spacing = rpm ? WINDOW_MS / rpm : 0;
    const entry = { at: Date.now(), tokens };
    this.window.push(entry);
    // Timers fire late on a busy machine; without making up for it, a 100 ms spacing becomes
    // 104 ms and the rate 95% of the budget. Lateness (up to ten spacings owed; a longer gap
    // means there was nothing to send) is paid back at most 5% of a spacing per gap, so starts
    // stay evenly spread; the 60 s window above still bounds every minute.
    const lateMs = this.nextStartAt > 0 ? entry.at - this.nextStartAt : 0;
    if (lateMs > 0 && lateMs <= 10 * spacing) this.lateDebtMs = Math.min(10 * spacing, this.lateDebtMs + lateMs);
    const credit = Math.min(this.lateDebtMs, spacing * 0.05);
    this.lateDebtMs -= credit;
    this.nextStartAt = entry.at + spacing - credit;
    return entry;
  }
}

interface InTurn {
  /** Lower first; then `order` (arrival). */
  priority: number;
  order: number;
}

interface SlotWaiter extends InTurn {
  grant(): void;
}

interface StartWaiter extends InTurn {
  tokens: number;
  start(entry: WindowEntry): void;
}

/** Inserts after every waiter that goes before it (usually at the end: a binary search from there). */
function insertInTurn<T extends InTurn>(queue: T[], waiter: T): void {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const other = queue[middle]!;
    if (other.priority < waiter.priority || (other.priority === waiter.priority && other.order < waiter.order)) low = middle + 1;
    else high = middle;
  }
  queue.splice(low, 0, waiter);
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Aborts many controllers from one signal with a single listener on it, added for the first
 * subscriber and removed with the last, so long-lived signals never collect a listener per call.
 */
class AbortFanOut {
  private readonly subscribers = new Map<AbortSignal, { controllers: Set<AbortController>; listener: () => void }>();

  subscribe(signal: AbortSignal, controller: AbortController): void {
    if (signal.aborted) {
      controller.abort(signal.reason);
      return;
    }
    let entry = this.subscribers.get(signal);
    if (!entry) {
      const controllers = new Set<AbortController>();
      const listener = () => {
        for (const subscriber of controllers) subscriber.abort(signal.reason);
      };
      signal.addEventListener('abort', listener, { once: true });
      entry = { controllers, listener };
      this.subscribers.set(signal, entry);
    }
    entry.controllers.add(controller);
  }

  unsubscribe(signal: AbortSignal, controller: AbortController): void {
    const entry = this.subscribers.get(signal);
    if (!entry) return;
    entry.controllers.delete(controller);
    if (entry.controllers.size === 0) {
      signal.removeEventListener('abort', entry.listener);
      this.subscribers.delete(signal);
    }
  }
}

/**
 * A signal that aborts when any parent aborts or after `timeoutMs`. `dispose()` removes the
 * listeners and the timer (AbortSignal.any keeps composite signals registered on long-lived
 * parents, which piles up over hundreds of thousands of calls).
 */
export function linkSignals(
  parents: readonly AbortSignal[],
  timeoutMs?: number,
): { signal: AbortSignal; timedOut(): boolean; abort(reason: unknown): void; dispose(): void } {
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    parent.addEventListener('abort', onAbort, { once: true });
  }
  const timer =
    timeoutMs !== undefined && !controller.signal.aborted
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
        }, timeoutMs)
      : undefined;
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    abort: (reason: unknown) => controller.abort(reason),
    dispose() {
      if (timer) clearTimeout(timer);
      for (const parent of parents) parent.removeEventListener('abort', onAbort);
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // The losing promise's rejection is observed either way: an attempt aborted mid-flight (the SDK's
  // APIUserAbortError) must never surface as an unhandled rejection.
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

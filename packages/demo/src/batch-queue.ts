import { DemoHttpError } from './http-response.js';

export interface BatchQueueOptions {
  /** Requests that may wait while a batch runs; one more gets 429 with Retry-After (default 8). */
  maxWaiting?: number;
  /** A request that has not finished after this long (waiting included) gets 504 (default 120 s). */
  timeoutMs?: number;
  /** Most requests run together in one model call (default 1: one at a time). */
  maxBatch?: number;
  /**
   * How long a batch waits for more requests to join before it starts, in ms (default 0). Waited
   * only under load: after a lone request (the last batch had one request and none arrived while
   * it ran) the next one starts at once, so a single client never pays the window.
   */
  windowMs?: number;
}

export interface BatchQueueRunOptions {
  /**
   * Requests with the same key may run in one batch (they share the runner and its settings);
   * without a key a request always runs alone.
   */
  key?: string;
  /** Aborts the request (the client went away, the server is closing). */
  signal?: AbortSignal;
  /** Called when the request has to wait, with its place in the queue (1 = next). */
  onQueued?: (position: number) => void;
  /** Called when the model starts on it. */
  onStart?: () => void;
}

/** Runs a batch of inputs: one output per input, in order. Its signal aborts once every request of the batch is gone. */
export type BatchRunner<I, O> = (inputs: I[], signal: AbortSignal) => Promise<O[]>;

interface Pending {
  input: unknown;
  runner: BatchRunner<unknown, unknown>;
  key: string | undefined;
  controller: AbortController;
  onStart: (() => void) | undefined;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  arrivedAt: number;
}

/** The 429 a request gets when the queue is full. */
export function busyError(waiting: number): DemoHttpError {
  return new DemoHttpError(429, 'busy', `The model is busy (${waiting} requests waiting). Try again in a moment.`, { 'Retry-After': '2' });
}

/**
 * One model call at a time, with dynamic batching: requests wait in a bounded queue, and when the
 * model is free the oldest request starts together with the waiting requests of the same key (up
 * to `maxBatch`, after a short `windowMs` for more to arrive under load). A model is a single ONNX
 * session, Python process or API key: running calls side by side only makes each slower, while
 * one call over a batch of inputs shares the forward passes. Past the queue the answer is 429 with
 * Retry-After instead of piling up work. A request that times out is answered 504 at once, but its
 * batch keeps the model until the call returns, so a stuck model is never asked twice at once.
 */
export class BatchQueue {
  private active = false;
  private readonly pending: Pending[] = [];
  private readonly maxWaiting: number;
  private readonly timeoutMs: number;
  private readonly maxBatch: number;
  private readonly windowMs: number;
  private windowTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the last batch showed concurrent traffic (more than one request, or arrivals while it ran). */
  private underLoad = false;
  private arrivalsWhileActive = 0;

  constructor(options: BatchQueueOptions = {}) {
    this.maxWaiting = Math.max(0, options.maxWaiting ?? 8);
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 120_000);
    this.maxBatch = Math.max(1, options.maxBatch ?? 1);
    this.windowMs = Math.max(0, options.windowMs ?? 0);
  }

  /** Requests waiting for the model (not yet started). */
  get depth(): number {
    return this.pending.length;
  }

  /**
   * Throws the 429 that `count` more requests would get now: for a route that must answer it
   * before its own headers, or that queues several inputs at once (all or none).
   */
  ensureRoom(count = 1): void {
    // While the model is idle, the requests gathering for the next batch start right away.
    if (this.pending.length + count > this.maxWaiting + (this.active ? 0 : this.maxBatch)) throw busyError(this.pending.length);
  }

  /** Runs `input` through `runner` when its turn comes (in a batch with others of its key). */
  run<I, O>(input: I, runner: BatchRunner<I, O>, options: BatchQueueRunOptions = {}): Promise<O> {
    this.ensureRoom();
    return new Promise<O>((resolve, reject) => {
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new DemoHttpError(504, 'timeout', `The model did not answer within ${Math.round(this.timeoutMs / 1000)} s.`)),
        this.timeoutMs,
      );
      const forward = () => controller.abort(new DemoHttpError(499, 'cancelled', 'The request was cancelled.'));
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', forward);
      };
      const item: Pending = {
        input,
        runner: runner as BatchRunner<unknown, unknown>,
        key: options.key,
        controller,
        onStart: options.onStart,
        arrivedAt: performance.now(),
        resolve: (output) => {
          if (settled) return;
          finish();
          resolve(output as O);
        },
        reject: (error) => {
          if (settled) return;
          finish();
          reject(error);
        },
      };
      controller.signal.addEventListener(
        'abort',
        () => {
          // A waiting request leaves the queue; a running one is answered now, its batch runs on.
          const index = this.pending.indexOf(item);
          if (index >= 0) this.pending.splice(index, 1);
          item.reject(controller.signal.reason as Error);
        },
        { once: true },
      );
      if (options.signal?.aborted) {
        forward();
        return;
      }
      options.signal?.addEventListener('abort', forward, { once: true });
      if (this.active) {
        this.arrivalsWhileActive++;
        options.onQueued?.(this.pending.length + 1);
      }
      this.pending.push(item);
      this.schedule();
    });
  }

  /** Starts the next batch when the model is free and the batch is full or its window has passed. */
  private schedule(): void {
    if (this.active || this.pending.length === 0) return;
    const oldest = this.pending[0]!;
    const batch = this.batchOf(oldest);
    const wait = this.underLoad ? this.windowMs - (performance.now() - oldest.arrivedAt) : 0;
    if (batch.length < this.maxBatch && oldest.key !== undefined && wait > 0) {
      this.windowTimer ??= setTimeout(() => {
        this.windowTimer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    for (const item of batch) this.pending.splice(this.pending.indexOf(item), 1);
    this.start(batch);
  }

  /** The oldest request and the waiting ones it may share a call with. */
  private batchOf(oldest: Pending): Pending[] {
    if (oldest.key === undefined) return [oldest];
    return this.pending.filter((item) => item.key === oldest.key && item.runner === oldest.runner).slice(0, this.maxBatch);
  }

  private start(batch: Pending[]): void {
    this.active = true;
    this.arrivalsWhileActive = 0;
    // The batch's call is cancelled only when every request in it is gone.
    const batchController = new AbortController();
    let gone = 0;
    for (const item of batch) {
      const leave = () => {
        if (++gone === batch.length) batchController.abort(item.controller.signal.reason);
      };
      if (item.controller.signal.aborted) leave();
      else item.controller.signal.addEventListener('abort', leave, { once: true });
      item.onStart?.();
    }
    let work: Promise<unknown[]>;
    try {
      work = batch[0]!.runner(
        batch.map((item) => item.input),
        batchController.signal,
      );
    } catch (error) {
      work = Promise.reject(error as Error);
    }
    const settle = (outcome: { outputs: unknown[] } | { error: Error }) => {
      // The model is free before anyone hears back: a request sent in reply is not "arriving while busy".
      this.underLoad = batch.length > 1 || this.arrivalsWhileActive > 0;
      this.active = false;
      if ('error' in outcome) for (const item of batch) item.reject(outcome.error);
      else if (!Array.isArray(outcome.outputs) || outcome.outputs.length !== batch.length) {
        const error = new DemoHttpError(500, 'internal_error', `The model returned ${Array.isArray(outcome.outputs) ? outcome.outputs.length : 'no'} answers for ${batch.length} inputs.`);
        for (const item of batch) item.reject(error);
      } else batch.forEach((item, index) => item.resolve(outcome.outputs[index]));
      this.schedule();
    };
    work.then(
      (outputs) => settle({ outputs }),
      (error: unknown) => settle({ error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }
}

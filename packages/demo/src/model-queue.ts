import { DemoHttpError } from './http-response.js';

export interface ModelQueueOptions {
  /** Requests that may wait behind the running one; one more gets 429 (default 8). */
  maxWaiting?: number;
  /** A request that has not finished after this long (waiting included) gets 504 (default 120 s). */
  timeoutMs?: number;
}

export interface ModelQueueRunOptions {
  /** Aborts the request (the client went away, the server is closing). */
  signal?: AbortSignal;
  /** Called when the request has to wait, with its place in the queue (1 = next). */
  onQueued?: (position: number) => void;
  /** Called when the model starts on it. */
  onStart?: () => void;
}

/**
 * One model call at a time: a demo model is a single ONNX session, Python process or API key, and
 * running calls side by side only makes each slower. Waiting requests form a bounded queue; past it
 * the server answers 429 with Retry-After instead of piling up work. A call that times out is
 * answered 504 at once, but its slot stays taken until the model returns, so a stuck model is
 * never asked twice at the same time.
 */
export class ModelQueue {
  private active = false;
  private readonly waiting: Array<() => void> = [];
  private readonly maxWaiting: number;
  private readonly timeoutMs: number;

  constructor(options: ModelQueueOptions = {}) {
    this.maxWaiting = Math.max(0, options.maxWaiting ?? 8);
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 120_000);
  }

  /** Requests waiting behind the running call. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Runs `task` when its turn comes; its signal aborts on timeout or when `options.signal` does. */
  /** Throws the 429 a request would get now (for a route that must answer it before its own headers). */
  ensureRoom(): void {
    if (this.active && this.waiting.length >= this.maxWaiting) {
      throw new DemoHttpError(429, 'busy', `The model is busy (${this.waiting.length} requests waiting). Try again in a moment.`, { 'Retry-After': '2' });
    }
  }

  async run<T>(task: (signal: AbortSignal) => Promise<T>, options: ModelQueueRunOptions = {}): Promise<T> {
    this.ensureRoom();
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DemoHttpError(504, 'timeout', `The model did not answer within ${Math.round(this.timeoutMs / 1000)} s.`)),
      this.timeoutMs,
    );
    const forward = () => controller.abort(new DemoHttpError(499, 'cancelled', 'The request was cancelled.'));
    if (options.signal?.aborted) forward();
    options.signal?.addEventListener('abort', forward, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', forward);
    };
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(controller.signal.reason as Error);
      if (controller.signal.aborted) fail();
      else controller.signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => undefined);

    try {
      if (this.active) {
        options.onQueued?.(this.waiting.length + 1);
        await new Promise<void>((resolve, reject) => {
          const turn = () => {
            controller.signal.removeEventListener('abort', giveUp);
            resolve();
          };
          const giveUp = () => {
            const index = this.waiting.indexOf(turn);
            if (index >= 0) this.waiting.splice(index, 1);
            reject(controller.signal.reason as Error);
          };
          this.waiting.push(turn);
          controller.signal.addEventListener('abort', giveUp, { once: true });
        });
      } else {
        this.active = true;
      }
    } catch (error) {
      cleanup();
      throw error;
    }

    // This request holds the slot until its model call settles, whatever the client does.
    options.onStart?.();
    let work: Promise<T>;
    try {
      work = task(controller.signal);
    } catch (error) {
      work = Promise.reject(error as Error);
    }
    work.then(
      () => this.next(),
      () => this.next(),
    );
    try {
      return await Promise.race([work, aborted]);
    } finally {
      cleanup();
    }
  }

  private next(): void {
    const turn = this.waiting.shift();
    if (turn) turn();
    else this.active = false;
  }
}

import { BatchQueue } from './batch-queue.js';

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

type Task = (signal: AbortSignal) => Promise<unknown>;

/** Runs a task alone (a batch of one). */
const runAlone = async ([task]: Task[], signal: AbortSignal): Promise<unknown[]> => [await task!(signal)];

/**
 * One model call at a time, each a task of its own: the `BatchQueue` with batches of one (its
 * bounded queue, 429 with Retry-After, 504 timeouts, and a slot held until the model returns).
 */
export class ModelQueue {
  private readonly queue: BatchQueue;

  constructor(options: ModelQueueOptions = {}) {
    this.queue = new BatchQueue({ ...options, maxBatch: 1 });
  }

  /** Requests waiting behind the running call. */
  get depth(): number {
    return this.queue.depth;
  }

  /** Throws the 429 a request would get now (for a route that must answer it before its own headers). */
  ensureRoom(): void {
    this.queue.ensureRoom();
  }

  /** Runs `task` when its turn comes; its signal aborts on timeout or when `options.signal` does. */
  run<T>(task: (signal: AbortSignal) => Promise<T>, options: ModelQueueRunOptions = {}): Promise<T> {
    return this.queue.run(task as Task, runAlone, options) as Promise<T>;
  }
}

import { throwIfAborted } from '../errors/abort-error.js';

/**
 * For CPU-bound loops: `await tick()` in the loop yields to the event loop every `everyMs` (so
 * Ctrl-C's signal handler and timers run) and throws AbortError once `signal` is aborted. Between
 * yields it costs one clock read.
 */
export function cooperativeTicker(signal?: AbortSignal, everyMs = 50): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last >= everyMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = Date.now();
    }
    throwIfAborted(signal);
  };
}

export type ProgressEvent =
  | { type: 'stage-start'; stage: string; resumed?: boolean }
  | { type: 'stage-finish'; stage: string; status: 'done' | 'skipped' | 'failed' | 'cached'; durationMs: number; error?: string }
  | {
      type: 'progress';
      stage: string;
      done: number;
      total?: number;
      /** Named counters shown beside the bar, e.g. `{ duplicates: 3, lowAgreement: 1 }`. */
      counters?: Record<string, number>;
    }
  | {
      type: 'usage';
      stage?: string;
      model: string;
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
      totalCostUsd: number;
      cached: boolean;
    }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string; stage?: string };

export type ProgressListener = (event: ProgressEvent) => void;

/** Progress events of a run. The CLI renders them as bars; a library user can subscribe too. */
export class ProgressEmitter {
  private readonly listeners = new Set<ProgressListener>();

  /** Subscribes; returns the function that unsubscribes. */
  on(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ProgressEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a renderer) must not break the run.
      }
    }
  }

  log(level: 'debug' | 'info' | 'warn', message: string, stage?: string): void {
    this.emit({ type: 'log', level, message, ...(stage ? { stage } : {}) });
  }
}

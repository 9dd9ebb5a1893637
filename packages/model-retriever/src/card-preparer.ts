import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { prepareCards, type CardToPrepare, type PreparedCard } from './card-prep.js';

interface Pending {
  cards: CardToPrepare[];
  resolve: (prepared: PreparedCard[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Prepares chunks of cards (cleaning, architecture and license detection) on a worker thread
 * while the caller tokenises the chunks already prepared: on two cores the build's two halves
 * overlap. Results come back per chunk, in order. Where the worker cannot start (a bundled copy
 * without its file, a test runner that cannot load it) or fails, the chunks are prepared on the
 * calling thread instead: the same function, the same results.
 */
export class CardPreparer {
  private worker: Worker | undefined;
  private failed = false;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** Chunks the worker prepared (the others were prepared on this thread). */
  answeredByWorker = 0;

  constructor(readonly useWorker: boolean) {}

  /** Whether a worker is worth starting here: another core to run it on. */
  static workersHelp(): boolean {
    return availableParallelism() > 1;
  }

  prepare(cards: CardToPrepare[]): Promise<PreparedCard[]> {
    if (!this.useWorker || this.failed) return Promise.resolve(prepareCards(cards));
    const worker = (this.worker ??= this.start());
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { cards, resolve, reject });
      worker.postMessage({ seq, cards });
    });
  }

  private start(): Worker {
    // Beside this module: dist/card-worker.js when built; src/card-worker.ts when this runs from
    // source under tsx, whose loader a worker registers for itself.
    const fromSource = import.meta.url.endsWith('.ts');
    const file = new URL(fromSource ? './card-worker.ts' : './card-worker.js', import.meta.url);
    const worker = fromSource
      ? new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); })`, { eval: true })
      : new Worker(file);
    worker.on('message', (message: { seq: number; prepared?: PreparedCard[]; failed?: boolean }) => {
      const pending = this.pending.get(message.seq);
      if (!pending) return;
      if (!message.prepared) return this.fallBack();
      this.pending.delete(message.seq);
      this.answeredByWorker++;
      pending.resolve(message.prepared);
    });
    worker.on('error', () => this.fallBack());
    worker.on('exit', () => this.fallBack());
    return worker;
  }

  /** Prepares every chunk the worker has not answered here, and the next ones too. */
  private fallBack(): void {
    if (this.failed) return;
    this.failed = true;
    void this.worker?.terminate();
    const pending = [...this.pending.values()];
    this.pending.clear();
    // In order: an error (a card the preparation cannot handle) surfaces from the first chunk that has it.
    for (const { cards, resolve, reject } of pending) {
      try {
        resolve(prepareCards(cards));
      } catch (error) {
        reject(error);
      }
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failed = true;
    if (worker) await worker.terminate();
  }
}

import { resolve } from 'node:path';
import type { Executor, Prediction, StageContext, StreamingExecutor } from '@prompt2model/core/internal';
import { loadTransformers } from '@prompt2model/evaluator/internal';

interface Tokenizer {
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

/**
 * Relays the tokens transformers.js generates to the request that is streaming. Its `streamer`
 * goes into the ONNX executor's generation options once (transformers.js `generate` calls
 * `put(ids)` per step, the first time with the prompt, and `end()`); since the demo runs one model
 * call at a time, the tokens always belong to the one streaming request, if any.
 */
export class OnnxTokenRelay {
  private listener: ((ids: number[]) => void) | undefined;
  private started = false;
  private tokenizer: Promise<Tokenizer> | undefined;

  constructor(private readonly modelDir: string) {}

  readonly streamer = {
    put: (value: unknown) => {
      if (!this.started) {
        // The first call carries the prompt (decoder-only) or the decoder start token (seq2seq).
        this.started = true;
        return;
      }
      const row = (value as Array<Array<number | bigint>>)[0];
      if (row && this.listener) this.listener(row.map(Number));
    },
    end: () => {
      this.started = false;
    },
  };

  private loadTokenizer(): Promise<Tokenizer> {
    this.tokenizer ??= loadTransformers().then(
      (transformers) => transformers.AutoTokenizer.from_pretrained(resolve(this.modelDir), { local_files_only: true }) as unknown as Promise<Tokenizer>,
    );
    return this.tokenizer;
  }

  /** Wraps an executor so that `stream()` sends the decoded text of each new token. */
  wrap(executor: Executor): StreamingExecutor {
    const relay = this;
    return {
      specificationVersion: 'v1',
      name: executor.name,
      get modelId() {
        return executor.modelId;
      },
      get lastRun() {
        return executor.lastRun;
      },
      execute: (inputs, context, options) => executor.execute(inputs, context, options),
      async stream(input, context, onText) {
        const tokenizer = await relay.loadTokenizer();
        const ids: number[] = [];
        let sent = '';
        // A call that failed mid-generation never ended its stream: this one starts afresh.
        relay.started = false;
        relay.listener = (step) => {
          ids.push(...step);
          const text = tokenizer.decode(ids, { skip_special_tokens: true });
          // Pieces that change already-sent text (a merge across tokens) wait for the final answer.
          if (text.length > sent.length && text.startsWith(sent)) {
            onText(text.slice(sent.length));
            sent = text;
          }
        };
        try {
          const [prediction] = await executor.execute([input], context);
          return prediction ?? { output: '', latencyMs: 0 };
        } finally {
          relay.listener = undefined;
        }
      },
      dispose: async () => {
        await executor.dispose?.();
      },
    };
  }
}

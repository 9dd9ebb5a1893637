import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
  SharedV4ProviderMetadata,
} from '@ai-sdk/provider';
import { canStream, createStageContext, type Executor, type Prediction, type StageContext } from '@prompt2model/core/internal';
import { studentCall } from './call-options.js';

/** Scratch folders of live students' contexts: removed at exit when no `dispose()` did it. */
const scratchFolders = new Set<string>();
let exitHookInstalled = false;

function trackScratchFolder(folder: string): void {
  scratchFolders.add(folder);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of scratchFolders) rmSync(dir, { recursive: true, force: true });
  });
}

/** The provider name in the AI SDK (`model.provider`) and the key of `providerMetadata`. */
export const STUDENT_PROVIDER = 'prompt2model';

/**
 * A trained student as an AI SDK language model (specification v4, what `ai` 7 calls): the
 * executor runs it in this process, each input wrapped in the training prompt exactly as in
 * training and evaluation. `providerMetadata.prompt2model.confidence` is the student's confidence
 * in its answer (exp of the mean token log-probability), where the executor reports one.
 */
export class StudentLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = 'v4' as const;
  readonly provider = STUDENT_PROVIDER;
  readonly modelId: string;
  /** The student reads text only: no URL is fetched by the model itself. */
  readonly supportedUrls: Record<string, RegExp[]> = {};
  private context: Promise<{ context: StageContext; folder: string }> | undefined;

  constructor(
    /** Runs the model (core's `Executor`; `executorForModel` over the executor table picks it). */
    readonly executor: Executor,
    modelId: string,
  ) {
    this.modelId = modelId;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const call = studentCall(options);
    const context = await this.contextFor(options.abortSignal);
    const timestamp = new Date();
    const [prediction] = await this.executor.execute([call.input], context, call.generation);
    const answer = prediction ?? { output: '', latencyMs: 0 };
    return {
      content: [{ type: 'text', text: answer.output }],
      finishReason: finishReason(answer),
      usage: usage(answer),
      providerMetadata: metadata(answer),
      request: { body: { input: call.input, ...call.generation } },
      response: { id: randomUUID(), timestamp, modelId: this.modelId },
      warnings: call.warnings,
    };
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const call = studentCall(options);
    // The caller's abort, or the reader cancelling the stream, ends the generation.
    const cancelled = new AbortController();
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, cancelled.signal]) : cancelled.signal;
    const context = await this.contextFor(signal);
    const executor = this.executor;
    const modelId = this.modelId;
    const textId = randomUUID();
    // A reader that cancels (or stops reading after an abort) gets nothing more.
    let open = true;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        const send = (part: LanguageModelV4StreamPart) => {
          if (open) controller.enqueue(part);
        };
        send({ type: 'stream-start', warnings: call.warnings });
        send({ type: 'response-metadata', id: randomUUID(), timestamp: new Date(), modelId });
        send({ type: 'text-start', id: textId });
        let streamed = false;
        const onText = (delta: string) => {
          if (delta === '' || signal.aborted) return;
          streamed = true;
          send({ type: 'text-delta', id: textId, delta });
        };
        // An executor without `stream` answers whole: its answer is one delta.
        const answer = canStream(executor)
          ? executor.stream(call.input, context, onText, call.generation)
          : executor.execute([call.input], context, call.generation).then(([prediction]) => prediction ?? { output: '', latencyMs: 0 });
        answer.then(
          (prediction) => {
            if (!streamed) onText(prediction.output);
            send({ type: 'text-end', id: textId });
            send({ type: 'finish', finishReason: finishReason(prediction), usage: usage(prediction), providerMetadata: metadata(prediction) });
            if (open) controller.close();
            open = false;
          },
          // As a fetch body does: an aborted or failed generation errors the stream, and `ai` reports it.
          (error: unknown) => {
            if (open) controller.error(error);
            open = false;
          },
        );
      },
      cancel() {
        open = false;
        cancelled.abort();
      },
    });
    return { stream, request: { body: { input: call.input, ...call.generation } } };
  }

  /**
   * Releases the loaded model (ONNX sessions, a worker process) and the scratch folder of its
   * context. The next call loads the model again.
   */
  async dispose(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    await this.executor.dispose?.();
    if (context) {
      const { folder } = await context.catch(() => ({ folder: undefined }));
      if (folder) {
        scratchFolders.delete(folder);
        await rm(folder, { recursive: true, force: true });
      }
    }
  }

  /**
   * The stage context the executor runs in (progress events, the call's abort signal). Core's
   * context needs a run folder of its own; the student's is a scratch folder (never the model's
   * run folder, which a running pipeline may hold locked), made once per model.
   */
  private async contextFor(signal: AbortSignal | undefined): Promise<StageContext> {
    this.context ??= (async () => {
      const folder = await mkdtemp(join(tmpdir(), 'prompt2model-student-'));
      trackScratchFolder(folder);
      return { folder, context: await createStageContext({ outDir: folder, cacheDir: false }) };
    })();
    this.context.catch(() => {
      this.context = undefined;
    });
    const { context } = await this.context;
    return signal ? { ...context, signal } : context;
  }
}

function finishReason(prediction: Prediction): LanguageModelV4FinishReason {
  return { unified: prediction.finishReason ?? 'stop', raw: prediction.finishReason };
}

function usage(prediction: Prediction): LanguageModelV4Usage {
  return {
    inputTokens: { total: prediction.promptTokens, noCache: prediction.promptTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: prediction.outputTokens, text: prediction.outputTokens, reasoning: undefined },
  };
}

function metadata(prediction: Prediction): SharedV4ProviderMetadata {
  return { [STUDENT_PROVIDER]: { latencyMs: prediction.latencyMs, ...(prediction.confidence !== undefined ? { confidence: prediction.confidence } : {}) } };
}

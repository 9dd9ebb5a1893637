import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { AbortError, BudgetExceededError, ValidationError } from '@prompt2model/core';
import { startOpenAIFineTuningServer, type OpenAIFineTuningServer, type OpenAIFineTuningServerOptions } from '@prompt2model/testing';
import { createOpenAIFineTuningBackend } from '@prompt2model/openai';
import { createTrainer } from '../src/index.js';
import { makeContext, tempDir, toyRows, writeRows } from './helpers.js';

const FAST = { initialBackoffMs: 1, maxBackoffMs: 5 };

describe('OpenAIFineTuningBackend against a loopback files + fine-tuning server', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let train: string;
  let validation: string;
  let server: OpenAIFineTuningServer | undefined;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    train = await writeRows(join(dir, 'train.jsonl'), toyRows(12));
    validation = await writeRows(join(dir, 'validation.jsonl'), toyRows(10, 100));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => cleanup());

  const job = (extra: Record<string, unknown> = {}) => ({
    baseModel: 'gpt-4o-mini-2024-07-18',
    epochs: 2,
    batchSize: 4,
    instruction: 'Add one to the number.',
    data: { train, validation },
    ...extra,
  });
  async function start(options: OpenAIFineTuningServerOptions = {}) {
    server = await startOpenAIFineTuningServer({ apiKey: 'sk-test-loopback-key', ...options });
    return (extra: Record<string, unknown> = {}) =>
      createOpenAIFineTuningBackend({ baseURL: server!.url, apiKey: 'sk-test-loopback-key', pollIntervalMs: 1, suffix: 'p2m', ...extra });
  }

  it('uploads chat JSONL, creates a supervised job, streams its metrics, returns the model id', async () => {
    const backend = await start();
    const { context, events } = await makeContext(join(dir, 'run-ok'), { scheduler: FAST });
    const model = await createTrainer({ backend: backend() }).train(job() as never, context);
    expect(model.kind).toBe('managed-model');
    expect(model.reference).toMatch(/^ft:gpt-4o-mini-2024-07-18:org-loopback:p2m:/);
    expect(model.metrics.trainedTokens).toBeGreaterThan(0);
    expect(model.metrics.costUsd).toBeCloseTo((model.metrics.trainedTokens! * 3) / 1e6, 12);
    expect(model.metrics.valid_loss).toBeCloseTo(2.2 / 6, 12);
    // The billed tokens × price are in the run's ledger and manifest, once: a rerun does not add them again.
    expect(context.ledger.totalUsd).toBeCloseTo(model.metrics.costUsd!, 12);
    expect(context.store.getManifest().cost?.usd).toBeCloseTo(model.metrics.costUsd!, 12);
    const rerun = await makeContext(join(dir, 'run-ok'), { scheduler: FAST });
    const again = await createTrainer({ backend: backend() }).train(job() as never, rerun.context);
    expect(again.reference).toBe(model.reference);
    expect(again.metrics.costUsd).toBe(model.metrics.costUsd);
    expect(rerun.context.ledger.totalUsd).toBeCloseTo(model.metrics.costUsd!, 12);
    expect(server!.jobs.size).toBe(1);

    const [uploadedTrain, uploadedValidation] = [...server!.files.values()];
    const firstRow = JSON.parse(uploadedTrain!.content.split('\n')[0]!);
    expect(firstRow).toEqual({
      messages: [
        { role: 'system', content: 'Add one to the number.' },
        { role: 'user', content: 'What is 0 plus one?' },
        { role: 'assistant', content: '1' },
      ],
    });
    expect(uploadedTrain!.purpose).toBe('fine-tune');
    expect(uploadedValidation!.content.trim().split('\n')).toHaveLength(10);
    const remote = [...server!.jobs.values()][0]!;
    expect(remote.hyperparameters).toMatchObject({ n_epochs: 2, batch_size: 4 });
    expect(remote.validation_file).toBe(uploadedValidation!.id);

    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ done: 6, total: 6 });
    const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    expect(logs.some((m) => m.includes('$0.00 at $3/1M training tokens'))).toBe(true);
    expect(logs.some((m) => /eval: valid_loss=/.test(m))).toBe(true);
    expect(logs.some((m) => m.includes('succeeded'))).toBe(true);
  });

  it('pages back through the event list when more than 100 events arrived between polls', async () => {
    const many = await writeRows(join(dir, 'many.jsonl'), toyRows(150));
    const backend = await start({ stepsPerPoll: 250 });
    const { context, events } = await makeContext(join(dir, 'run-many'), { scheduler: FAST });
    await createTrainer({ backend: backend() }).train(job({ batchSize: 1, data: { train: many } }) as never, context);
    const steps = events.flatMap((e) => (e.type === 'progress' && e.counters?.loss !== undefined ? [e.done] : []));
    expect(steps).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(server!.stats.byRoute['GET /v1/fine_tuning/jobs/:id/events']).toBeGreaterThan(4);
  });

  it('retries 429 and 500 through the run scheduler', async () => {
    const backend = await start({ faultSequence: ['rate-limit', 'server-error', 'ok', 'rate-limit'] });
    const { context } = await makeContext(join(dir, 'run-faults'), { scheduler: FAST });
    const model = await createTrainer({ backend: backend() }).train(job() as never, context);
    expect(model.reference).toMatch(/^ft:/);
    expect(server!.stats.faultsInjected).toBe(3);
    expect(context.scheduler.stats.retries).toBe(3);
    expect(server!.jobs.size).toBe(1);
  });

  it('keeps the remote job on Ctrl-C and re-attaches to it after a restart without re-uploading', async () => {
    const backend = await start({ stepsPerPoll: 1 });
    const out = join(dir, 'run-resume');
    const controller = new AbortController();
    const first = await makeContext(out, { signal: controller.signal, scheduler: FAST });
    first.context.events.on((event) => {
      if (event.type === 'progress' && event.done === 2) controller.abort(new Error('Ctrl-C'));
    });
    const error = await createTrainer({ backend: backend() }).train(job() as never, first.context).catch((e: unknown) => e);
    expect(AbortError.isInstance(error)).toBe(true);
    const remote = [...server!.jobs.values()][0]!;
    expect(remote.status).toBe('running');
    const uploads = server!.stats.byRoute['POST /v1/files'];

    const second = await makeContext(out, { scheduler: FAST });
    const model = await createTrainer({ backend: backend() }).train(job() as never, second.context);
    expect(model.jobId).toBe(remote.id);
    expect(server!.jobs.size).toBe(1);
    expect(server!.stats.byRoute['POST /v1/files']).toBe(uploads);
    expect(second.events.some((e) => e.type === 'log' && e.message.includes(`Resuming training job ${remote.id}`))).toBe(true);
  });

  it('cancels the remote job on Ctrl-C when asked to', async () => {
    const backend = await start({ stepsPerPoll: 1 });
    const controller = new AbortController();
    const { context } = await makeContext(join(dir, 'run-cancel'), { signal: controller.signal, scheduler: FAST });
    context.events.on((event) => {
      if (event.type === 'progress' && event.done === 1) controller.abort(new Error('Ctrl-C'));
    });
    await expect(createTrainer({ backend: backend({ cancelOnAbort: true }) }).train(job() as never, context)).rejects.toSatisfy((e: unknown) =>
      AbortError.isInstance(e),
    );
    expect([...server!.jobs.values()][0]!.status).toBe('cancelled');
  });

  it('reports a failed job with its error, and starts a new job on rerun', async () => {
    const backend = await start({ failAtStep: 3 });
    const out = join(dir, 'run-fail');
    const { context } = await makeContext(out, { scheduler: FAST });
    await expect(createTrainer({ backend: backend() }).train(job() as never, context)).rejects.toThrow(/failed: The job failed due to an internal error/);
    const again = await makeContext(out, { scheduler: FAST });
    await expect(createTrainer({ backend: backend() }).train(job() as never, again.context)).rejects.toThrow(/internal error/);
    expect(server!.jobs.size).toBe(2);
  });

  it('checks budget, price and data rules before any request is made', async () => {
    const backend = await start();
    const budget = await makeContext(join(dir, 'run-budget'), { maxCostUsd: 0.0000001 });
    await expect(createTrainer({ backend: backend() }).train(job() as never, budget.context)).rejects.toSatisfy((e: unknown) =>
      BudgetExceededError.isInstance(e),
    );
    const unknown = await makeContext(join(dir, 'run-unknown'));
    const error = await createTrainer({ backend: backend() }).train(job({ baseModel: 'my-own-model' }) as never, unknown.context).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no training price known/);
    const few = await writeRows(join(dir, 'few.jsonl'), toyRows(5));
    const small = await makeContext(join(dir, 'run-few'));
    await expect(createTrainer({ backend: backend() }).train(job({ data: { train: few } }) as never, small.context)).rejects.toThrow(/needs at least 10/);
    expect(server!.stats.requests).toBe(0);
  });

  it('surfaces API errors with status and hint (bad key)', async () => {
    const backend = await start();
    const { context } = await makeContext(join(dir, 'run-key'), { scheduler: FAST });
    const error = await createTrainer({ backend: backend({ apiKey: 'sk-wrong-key-123456' }) }).train(job() as never, context).catch((e: unknown) => e);
    expect((error as { statusCode?: number }).statusCode).toBe(401);
    expect((error as Error).message).not.toContain('sk-wrong-key-123456');
    expect((error as { hint?: string }).hint).toMatch(/API key/);
  });
});

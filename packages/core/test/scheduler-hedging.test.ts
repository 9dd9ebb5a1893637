import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APICallError, CostLedger, LanguageModelClient, ProgressEmitter, RequestScheduler, type TaskContext } from '../src/internal.js';

// Fake clock throughout: latencies are timers, and the tests assert what was sent and in what order,
// never how long anything took.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const after = <T>(ms: number, value: T, signal?: AbortSignal) =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(value), ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });

/** Hedge past 4x the typical latency, with no floor of a second: the test latencies are 100 ms. */
const HEDGE_FAST = { minDelayMs: 0 };

/** Eight answers of 100 ms, so the scheduler knows the kind's typical latency (hedges after 400 ms). */
async function learnLatency(scheduler: RequestScheduler, kind = 'vote'): Promise<void> {
  let done = false;
  const calls = Promise.all(Array.from({ length: 8 }, () => scheduler.run((context) => after(100, 'ok', context.signal), { hedge: { kind } }))).then(() => (done = true));
  while (!done) await vi.advanceTimersByTimeAsync(100);
  await calls;
}

/** A hedgeable call whose first attempt answers after `firstMs` and a hedge after `hedgeMs`, with the contexts of its attempts. */
function slowCall(scheduler: RequestScheduler, firstMs: number, hedgeMs: number): { call: Promise<string>; contexts: TaskContext[] } {
  const contexts: TaskContext[] = [];
  const call = scheduler.run(
    (context) => {
      contexts.push(context);
      return context.hedge ? after(hedgeMs, 'hedge', context.signal) : after(firstMs, 'first', context.signal);
    },
    { hedge: { kind: 'vote' } },
  );
  return { call, contexts };
}

describe('RequestScheduler hedging', () => {
  it('re-sends a call that runs far past the typical latency while the budget is idle; the first answer wins, the other is aborted', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST });
    await learnLatency(scheduler);
    // The first attempt is a slow answer (3 s); the hedge answers in 100 ms.
    const { call, contexts } = slowCall(scheduler, 3000, 100);
    await vi.advanceTimersByTimeAsync(399);
    expect(contexts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(contexts.map((context) => context.hedge)).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).resolves.toBe('hedge');
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[1]!.signal.aborted).toBe(false);
    expect(scheduler.stats).toMatchObject({ started: 10, succeeded: 9, hedges: 1, hedgeWins: 1, inFlight: 0 });
  });

  it('waits at least 500 ms by default, however fast the kind usually answers', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 4 });
    await learnLatency(scheduler);
    const { call, contexts } = slowCall(scheduler, 3000, 100);
    await vi.advanceTimersByTimeAsync(499);
    expect(contexts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(101);
    await expect(call).resolves.toBe('hedge');
    expect(contexts).toHaveLength(2);
  });

  it('aborts the hedge when the first attempt answers first', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST });
    await learnLatency(scheduler);
    const { call, contexts } = slowCall(scheduler, 600, 3000);
    await vi.advanceTimersByTimeAsync(600);
    await expect(call).resolves.toBe('first');
    expect(contexts).toHaveLength(2);
    expect(contexts[1]!.signal.aborted).toBe(true);
    expect(scheduler.stats).toMatchObject({ hedges: 1, hedgeWins: 0, inFlight: 0 });
  });

  it('never hedges calls that did not ask for it, nor before the typical latency of their kind is known', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST });
    await learnLatency(scheduler, 'vote');
    let attempts = 0;
    const plain = scheduler.run(() => (attempts++, after(3000, 'plain')));
    const otherKind = scheduler.run(() => (attempts++, after(3000, 'other')), { hedge: { kind: 'generation' } });
    await vi.advanceTimersByTimeAsync(3000);
    await expect(Promise.all([plain, otherKind])).resolves.toEqual(['plain', 'other']);
    expect(attempts).toBe(2);
    expect(scheduler.stats.hedges).toBe(0);
  });

  it('lets every waiting request start before a hedge, which takes its start from the RPM budget', async () => {
    // 600 RPM: a start every 100 ms.
    const scheduler = new RequestScheduler({ requestsPerMinute: 600, maxConcurrency: 16, hedging: HEDGE_FAST });
    await learnLatency(scheduler);
    await vi.advanceTimersByTimeAsync(1000);
    const started: string[] = [];
    const slow = scheduler.run(
      (context) => {
        started.push(context.hedge ? 'hedge' : 'slow');
        return context.hedge ? after(100, 'hedge', context.signal) : after(5000, 'slow', context.signal);
      },
      { hedge: { kind: 'vote' } },
    );
    // Ten more calls queue behind it: a second of starts at this budget, past the 400 ms hedge delay.
    const queued = Array.from({ length: 10 }, (_, i) => scheduler.run(async () => void started.push(`queued ${i}`), { priority: 5 }));
    await vi.advanceTimersByTimeAsync(1300);
    await Promise.all(queued);
    await expect(slow).resolves.toBe('hedge');
    expect(started).toEqual(['slow', ...Array.from({ length: 10 }, (_, i) => `queued ${i}`), 'hedge']);
    expect(scheduler.stats).toMatchObject({ started: 20, hedges: 1, hedgeWins: 1 });
  });

  it('keeps hedges under their share of the requests started', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 8, hedging: { ...HEDGE_FAST, maxShare: 0.05 } });
    await learnLatency(scheduler);
    // Twelve requests started with the hedge: 5% of them allows one; three slow calls at once get one hedge.
    let hedges = 0;
    const calls = Array.from({ length: 3 }, () =>
      scheduler.run((context) => (context.hedge ? (hedges++, after(100, 'hedge', context.signal)) : after(2000, 'first', context.signal)), { hedge: { kind: 'vote' } }),
    );
    await vi.advanceTimersByTimeAsync(2000);
    expect((await Promise.all(calls)).sort()).toEqual(['first', 'first', 'hedge']);
    expect(hedges).toBe(1);
  });

  it('a failed hedge leaves the first attempt running, and a failed first attempt waits for the hedge', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 4, initialBackoffMs: 10_000, hedging: { ...HEDGE_FAST, maxShare: 1 } });
    await learnLatency(scheduler);
    let hedges = 0;
    const call = scheduler.run(
      (context) => {
        if (!context.hedge) return after(1000, undefined, context.signal).then(() => Promise.reject(new APICallError({ message: 'status 500', statusCode: 500 })));
        hedges++;
        // The first hedge gets a 429 (Retry-After 300 ms); the next one answers.
        if (hedges === 1) return Promise.reject(new APICallError({ message: 'status 429', statusCode: 429, retryAfterMs: 300 }));
        return after(800, 'second hedge', context.signal);
      },
      { hedge: { kind: 'vote' } },
    );
    // Hedge 1 at 400 ms fails at once; hedge 2 at 800 ms; the first attempt fails at 1,000 ms; hedge 2 answers at 1,600 ms.
    await vi.advanceTimersByTimeAsync(1600);
    await expect(call).resolves.toBe('second hedge');
    expect(hedges).toBe(2);
    expect(scheduler.stats).toMatchObject({ retries: 0, hedges: 2, hedgeWins: 1, rateLimited: 1, rateLimitPauses: 0 });
  });
});

describe('LanguageModelClient: hedged calls in the cost accounting', () => {
  it('counts the aborted loser at an estimate, and a loser that answered at its usage', async () => {
    let calls = 0;
    const model = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'gpt-4o-mini',
      doGenerate: (request: { abortSignal?: AbortSignal; messages: Array<{ content: string }> }) => {
        calls++;
        // The first send of the 'slow' prompt takes 5 s; its hedge answers in 100 ms.
        const slow = request.messages[0]!.content === 'slow' && calls === 1;
        const answer = { choices: [{ text: 'ok', finishReason: 'stop' as const }], usage: { inputTokens: 100, outputTokens: 40 } };
        return after(slow ? 5000 : 100, answer, request.abortSignal);
      },
    };
    const ledger = new CostLedger();
    const events = new ProgressEmitter();
    let usageEvents = 0;
    events.on((event) => void (event.type === 'usage' && usageEvents++));
    const client = new LanguageModelClient({ model, ledger, events, scheduler: new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST }) });
    const warm = Array.from({ length: 8 }, (_, i) => client.generate({ messages: [{ role: 'user', content: `warm ${i}` }], maxTokens: 100 }));
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(warm);
    calls = 0;
    const before = ledger.snapshot();
    const hedged = client.generate({ messages: [{ role: 'user', content: 'slow' }], maxTokens: 100 });
    await vi.advanceTimersByTimeAsync(500);
    await expect(hedged).resolves.toMatchObject({ choices: [{ text: 'ok' }] });
    expect(calls).toBe(2);
    const spent = ledger.snapshot();
    // The winner's 40 output tokens and the loser's estimate (the mean output of answered calls: 40).
    expect(spent.outputTokens - before.outputTokens).toBe(80);
    expect(client.cutOffCalls).toBe(1);
    // Eight warm-up calls, the winner, and the loser's estimate.
    expect(usageEvents).toBe(10);
  });

  it('a cancellation while a call and its hedge are both in flight counts both', async () => {
    const model = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'gpt-4o-mini',
      doGenerate: (request: { abortSignal?: AbortSignal; messages: Array<{ content: string }> }) => {
        const answer = { choices: [{ text: 'ok', finishReason: 'stop' as const }], usage: { inputTokens: 100, outputTokens: 40 } };
        return after(request.messages[0]!.content === 'slow' ? 60_000 : 100, answer, request.abortSignal);
      },
    };
    const controller = new AbortController();
    const client = new LanguageModelClient({ model, ledger: new CostLedger(), scheduler: new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST, signal: controller.signal }) });
    const warm = Array.from({ length: 8 }, (_, i) => client.generate({ messages: [{ role: 'user', content: `warm ${i}` }], maxTokens: 100 }));
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(warm);
    const slow = client.generate({ messages: [{ role: 'user', content: 'slow' }], maxTokens: 100 });
    const settled = slow.catch((error: unknown) => error);
    // Hedged at 400 ms; both sends hang; Ctrl-C at 1 s.
    await vi.advanceTimersByTimeAsync(1000);
    controller.abort(new Error('interrupted'));
    await vi.advanceTimersByTimeAsync(0);
    expect(await settled).toBeInstanceOf(Error);
    expect(client.cutOffCalls).toBe(2);
  });

  it('a loser that answered too is counted at its own usage', async () => {
    const answer = (outputTokens: number) => ({ choices: [{ text: 'ok', finishReason: 'stop' as const }], usage: { inputTokens: 100, outputTokens } });
    let calls = 0;
    // Both sends of the 'slow' prompt answer at 500 ms, at the same moment (the first with 70
    // output tokens, its hedge, sent at 400 ms, with 40): the first wins, the hedge's answer has come too.
    let gate: Promise<void> = Promise.resolve();
    const model = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'gpt-4o-mini',
      doGenerate: (request: { abortSignal?: AbortSignal; messages: Array<{ content: string }> }) =>
        request.messages[0]!.content === 'slow' ? gate.then(() => answer(++calls === 1 ? 70 : 40)) : after(100, answer(40), request.abortSignal),
    };
    const ledger = new CostLedger();
    const client = new LanguageModelClient({ model, ledger, scheduler: new RequestScheduler({ maxConcurrency: 4, hedging: HEDGE_FAST }) });
    const warm = Array.from({ length: 8 }, (_, i) => client.generate({ messages: [{ role: 'user', content: `warm ${i}` }], maxTokens: 100 }));
    await vi.advanceTimersByTimeAsync(200);
    await Promise.all(warm);
    const before = ledger.snapshot();
    gate = after(500, undefined);
    const hedged = client.generate({ messages: [{ role: 'user', content: 'slow' }], maxTokens: 100 });
    await vi.advanceTimersByTimeAsync(500);
    await expect(hedged).resolves.toMatchObject({ choices: [{ text: 'ok' }] });
    expect(calls).toBe(2);
    expect(ledger.snapshot().outputTokens - before.outputTokens).toBe(110);
    expect(client.cutOffCalls).toBe(0);
  });
});

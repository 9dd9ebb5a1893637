import { describe, expect, it, vi } from 'vitest';
import { APICallError, AbortError, RequestScheduler } from '../src/internal.js';

const retryable = (status = 500, retryAfterMs?: number) =>
  new APICallError({ message: `status ${status}`, statusCode: status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('RequestScheduler', () => {
  it('never runs more than maxConcurrency tasks at once', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        scheduler.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(scheduler.stats.succeeded).toBe(12);
  });

  it('retries retryable errors and gives up after maxRetries with the last error', async () => {
    const scheduler = new RequestScheduler({ maxRetries: 2, initialBackoffMs: 1 });
    let attempts = 0;
    const error = await scheduler
      .run(async () => {
        attempts++;
        throw retryable(503);
      })
      .catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect((error as APICallError).statusCode).toBe(503);
    expect(scheduler.stats.failed).toBe(1);
  });

  it('does not retry non-retryable errors or plain programming errors', async () => {
    const scheduler = new RequestScheduler({ initialBackoffMs: 1 });
    let attempts = 0;
    await expect(
      scheduler.run(async () => {
        attempts++;
        throw new APICallError({ message: 'bad request', statusCode: 400 });
      }),
    ).rejects.toThrow('bad request');
    await expect(
      scheduler.run(async () => {
        attempts++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow('bug');
    expect(attempts).toBe(2);
  });

  async function rateLimitScenario(mode: 'adaptive' | 'all' | 'request', first429s: number) {
    const scheduler = new RequestScheduler({ maxConcurrency: 4, initialBackoffMs: 10_000, random: () => 0, rateLimitCooldown: mode });
    const starts: Array<{ id: string; at: number }> = [];
    let remaining429 = first429s;
    const t0 = Date.now();
    const limited = (id: string) =>
      scheduler.run(async () => {
        starts.push({ id, at: Date.now() - t0 });
        if (remaining429-- > 0) throw retryable(429, 300);
      });
    const calls = Array.from({ length: first429s }, (_, i) => limited(`r${i}`));
    const late = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      await scheduler.run(async () => void starts.push({ id: 'late', at: Date.now() - t0 }));
    })();
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all([...calls, late]);
    return { starts, lateAt: starts.find((s) => s.id === 'late')!.at };
  }

  // On the fake clock, since what is asserted is when the scheduler let each request start: on a
  // loaded machine the real clock adds pauses the scheduler did not choose.
  const onFakeClock = (test: () => Promise<void>) => async () => {
    vi.useFakeTimers();
    try {
      await test();
    } finally {
      vi.useRealTimers();
    }
  };

  it('retries after the Retry-After, not its own (much longer) backoff', onFakeClock(async () => {
    const { starts } = await rateLimitScenario('request', 1);
    const retry = starts.filter((s) => s.id === 'r0')[1]!;
    expect(retry.at).toBeGreaterThanOrEqual(290);
    expect(retry.at).toBeLessThan(5000); // not the 10 s exponential backoff
  }));

  it('adaptive: a lone 429 delays only its own retry, a burst of 429s pauses every request', onFakeClock(async () => {
    const lone = await rateLimitScenario('adaptive', 1);
    expect(lone.lateAt).toBeLessThan(290);
    const burst = await rateLimitScenario('adaptive', 2);
    expect(burst.lateAt).toBeGreaterThanOrEqual(290);
    const all = await rateLimitScenario('all', 1);
    expect(all.lateAt).toBeGreaterThanOrEqual(290);
  }));

  it('adaptive: sporadic 429s among many requests never pause the others', onFakeClock(async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 8, random: () => 0 });
    let call = 0;
    const started = Date.now();
    // 200 requests, every 40th attempt answered 429 with a 2 s Retry-After (2.5%, like random 429s).
    const finished = Promise.all(
      Array.from({ length: 200 }, () =>
        scheduler.run(async () => {
          await new Promise((r) => setTimeout(r, 2));
          if (++call % 40 === 0) throw retryable(429, 2000);
        }),
      ),
    ).then(() => Date.now());
    await vi.advanceTimersByTimeAsync(10_000);
    const finishedAt = await finished;
    expect(scheduler.stats.rateLimited).toBe(5);
    expect(scheduler.stats.rateLimitPauses).toBe(0);
    // Only the five 429'd requests waited 2 s each, in parallel with the rest: 25 rounds of 2 ms
    // and one 2 s wait, where a pause of everyone at each 429 would take 5 × 2 s.
    expect(finishedAt - started).toBeLessThan(3500);
  }));

  it('adaptive: a 429 while our own TPM window is full pauses every request', async () => {
    const controller = new AbortController();
    // Stop at the first retry: the point is what the 429 did to the others, not the wait.
    const scheduler = new RequestScheduler({ tokensPerMinute: 100, headroom: 1, random: () => 0, signal: controller.signal, onRetry: () => controller.abort() });
    const own = scheduler.run(
      async (context) => {
        context.reportTokens(100);
        throw retryable(429, 10);
      },
      { estimatedTokens: 50 },
    );
    await expect(own).rejects.toSatisfy((error) => AbortError.isInstance(error));
    expect(scheduler.stats.rateLimitPauses).toBe(1);
  });

  it('spaces request starts to the RPM budget', async () => {
    const scheduler = new RequestScheduler({ requestsPerMinute: 600, headroom: 1, maxConcurrency: 10 });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => scheduler.run(async () => void starts.push(Date.now()))));
    starts.sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(95);
  });

  it('holds requests back when the TPM budget is used up', async () => {
    // 6000 TPM: a 100-token request is allowed every second on average; two fit at once.
    const scheduler = new RequestScheduler({ tokensPerMinute: 200 * 60, headroom: 1 });
    const starts: number[] = [];
    const t0 = Date.now();
    const task = (tokens: number) => scheduler.run(async () => void starts.push(Date.now() - t0), { estimatedTokens: tokens });
    await Promise.all([task(6000), task(6000)]);
    expect(starts).toHaveLength(2);
    const third = scheduler.run(async () => 'ran', { estimatedTokens: 6000, signal: AbortSignal.timeout(200) });
    await expect(third).rejects.toBeInstanceOf(AbortError);
  });

  it('cancels queued work when the signal aborts', async () => {
    const controller = new AbortController();
    const scheduler = new RequestScheduler({ maxConcurrency: 1, signal: controller.signal });
    const slow = scheduler.run(() => new Promise((r) => setTimeout(r, 200)));
    const queued = scheduler.run(async () => 'never');
    controller.abort();
    await expect(queued).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
    await expect(slow).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
  });

  it('turns a timed-out attempt into a retry', async () => {
    const scheduler = new RequestScheduler({ timeoutMs: 50, initialBackoffMs: 1 });
    let attempts = 0;
    const result = await scheduler.run(async ({ signal }) => {
      attempts++;
      if (attempts === 1) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(attempts).toBe(2);
  });
});

describe('RequestScheduler listeners', () => {
  it('keeps one listener on each shared signal however many requests wait', async () => {
    const controller = new AbortController();
    let added = 0;
    const original = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      return original(...args);
    }) as AbortSignal['addEventListener'];
    const scheduler = new RequestScheduler({ maxConcurrency: 2, signal: controller.signal });
    const callSignal = new AbortController().signal;
    let addedToCallSignal = 0;
    const originalCall = callSignal.addEventListener.bind(callSignal);
    callSignal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      addedToCallSignal++;
      return originalCall(...args);
    }) as AbortSignal['addEventListener'];
    await Promise.all(Array.from({ length: 50 }, () => scheduler.run(() => new Promise((r) => setTimeout(r, 1)), { signal: controller.signal })));
    await Promise.all(Array.from({ length: 50 }, () => scheduler.run(() => new Promise((r) => setTimeout(r, 1)), { signal: callSignal })));
    // One listener per concurrent burst on each shared signal, not one per request.
    expect(added).toBe(2);
    expect(addedToCallSignal).toBe(1);
    const pending = Promise.all(Array.from({ length: 5 }, () => scheduler.run(() => new Promise((r) => setTimeout(r, 1000)))));
    controller.abort();
    await expect(pending).rejects.toSatisfy((e: unknown) => AbortError.isInstance(e));
  });
});

describe('RequestScheduler cancellation races', () => {
  it('never starts a request cancelled while it waited for its turn, so no rejection goes unobserved', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const scheduler = new RequestScheduler({ maxConcurrency: 2 });
      let started = 0;
      const controller = new AbortController();
      // The SDK rejects at once when its signal is already aborted (APIUserAbortError).
      const task = async ({ signal }: { signal: AbortSignal }) => {
        started++;
        if (signal.aborted) throw new Error('Request was aborted.');
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (signal.aborted) throw new Error('Request was aborted.');
        return 1;
      };
      const calls = Array.from({ length: 6 }, () => scheduler.run(task, { signal: controller.signal }));
      // Aborted in the same tick: every call is between its slot and its start.
      controller.abort();
      const results = await Promise.allSettled(calls);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(results.every((r) => r.status === 'rejected' && AbortError.isInstance(r.reason))).toBe(true);
      expect(started).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('LanguageModelClient waiting notice', () => {
  it('says once what it waits for when a server accepts the request but does not answer', async () => {
    const { LanguageModelClient, ProgressEmitter } = await import('../src/internal.js');
    const events = new ProgressEmitter();
    const logs: string[] = [];
    events.on((event) => event.type === 'log' && logs.push(event.message));
    const slow = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'silent-model',
      doGenerate: () => new Promise<never>(() => undefined),
    };
    const scheduler = new RequestScheduler({ timeoutMs: 400, maxRetries: 0 });
    const client = new LanguageModelClient({ model: slow, scheduler, events, waitingNoticeMs: 100 });
    await expect(client.generate({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow('silent-model sent no complete answer within 400 ms.');
    expect(logs).toEqual([
      'Waiting for silent-model: no answer after 100 ms (a request with no answer after 60 s is retried; one that never answered fails).',
    ]);
  });
});

describe('RequestScheduler: an endpoint that never answers', () => {
  const firstByte = () => new APICallError({ message: 'no headers', url: 'http://127.0.0.1:9/v1', isRetryable: true, timeout: 'first-byte' });

  it('gives up after unansweredRetries when nothing ever answered, with a non-retryable error naming the target, and fails queued requests at once', async () => {
    const scheduler = new RequestScheduler({ maxConcurrency: 1, initialBackoffMs: 1, unansweredRetries: 1, firstByteTimeoutMs: 1500 });
    let attempts = 0;
    const bounds: number[] = [];
    const task = async (context: { firstByteTimeoutMs: number }) => {
      attempts++;
      bounds.push(context.firstByteTimeoutMs);
      throw firstByte();
    };
    const first = await Promise.allSettled([scheduler.run(task, { target: 'teacher at http://127.0.0.1:9/v1' })]);
    expect(attempts).toBe(2);
    expect(bounds).toEqual([1500, 1500]);
    // Later requests fail at once: the endpoint is known to be unusable.
    const later = await Promise.allSettled([1, 2].map(() => scheduler.run(task, { target: 'teacher at http://127.0.0.1:9/v1' })));
    expect(attempts).toBe(2);
    const results = [...first, ...later];
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as APICallError;
      expect(APICallError.isInstance(error)).toBe(true);
      expect(error.isRetryable).toBe(false);
      expect(error.isConfigurationError).toBe(true);
      expect(error.message).toBe(
        'teacher at http://127.0.0.1:9/v1 accepted the request but sent no answer (not even response headers) within 1.5 s, 2 times in a row, and has answered nothing yet: the endpoint is unusable.',
      );
    }
  });

  it('keeps retrying timeouts (up to maxRetries) once the endpoint has answered', async () => {
    const scheduler = new RequestScheduler({ initialBackoffMs: 1, maxRetries: 4 });
    await scheduler.run(async () => 'ok');
    let attempts = 0;
    const value = await scheduler.run(async () => {
      attempts++;
      if (attempts < 4) throw firstByte();
      return 'late';
    });
    expect(value).toBe('late');
    expect(attempts).toBe(4);
  });

  it('counts an HTTP error as an answer: a 500 then timeouts is a struggling endpoint, not a dead one', async () => {
    const scheduler = new RequestScheduler({ initialBackoffMs: 1, maxRetries: 3 });
    let attempts = 0;
    await expect(
      scheduler.run(async () => {
        attempts++;
        throw attempts === 1 ? retryable(500) : firstByte();
      }),
    ).rejects.toThrow('no headers');
    expect(attempts).toBe(4);
  });
});

describe('LanguageModelClient: calls cut off by a cancellation', () => {
  it('counts a call that was in flight when Ctrl-C came (the endpoint bills it), at the mean output of answered calls', async () => {
    const { CostLedger, LanguageModelClient } = await import('../src/internal.js');
    let calls = 0;
    const model = {
      specificationVersion: 'v1' as const,
      provider: 'test',
      modelId: 'gpt-4o-mini',
      doGenerate: (request: { abortSignal?: AbortSignal }) => {
        calls++;
        if (calls === 1) return Promise.resolve({ choices: [{ text: 'ok', finishReason: 'stop' as const }], usage: { inputTokens: 100, outputTokens: 40 } });
        // Later calls hang until aborted, as a slow answer does when the user presses Ctrl-C.
        return new Promise<never>((_resolve, reject) => request.abortSignal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
      },
    };
    const controller = new AbortController();
    const ledger = new CostLedger();
    const client = new LanguageModelClient({ model, ledger, scheduler: new RequestScheduler({ signal: controller.signal }) });
    await client.generate({ messages: [{ role: 'user', content: 'first' }], maxTokens: 100 });
    const answered = ledger.snapshot();
    const cut = client.generate({ messages: [{ role: 'user', content: 'second' }], maxTokens: 100 });
    // A call never started (still queued behind nothing, but cancelled before sending) is not counted.
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('interrupted'));
    await expect(cut).rejects.toThrow();
    const after = ledger.snapshot();
    expect(client.cutOffCalls).toBe(1);
    expect(after.outputTokens - answered.outputTokens).toBe(40);
    expect(after.inputTokens).toBeGreaterThan(answered.inputTokens);
    expect(after.usd).toBeGreaterThan(answered.usd);
  });

  it('does not count a call that failed with an answer (an HTTP error), nor one cancelled before it was sent', async () => {
    const { CostLedger, LanguageModelClient } = await import('../src/internal.js');
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const ledger = new CostLedger();
    const model = { specificationVersion: 'v1' as const, provider: 'test', modelId: 'gpt-4o-mini', doGenerate: () => Promise.reject(retryable(400)) };
    const client = new LanguageModelClient({ model, ledger, scheduler: new RequestScheduler({ maxRetries: 0 }) });
    await expect(client.generate({ messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow('status 400');
    const cancelled = new LanguageModelClient({ model, ledger, scheduler: new RequestScheduler({ signal: controller.signal }) });
    await expect(cancelled.generate({ messages: [{ role: 'user', content: 'y' }] })).rejects.toThrow();
    expect(ledger.snapshot().usd).toBe(0);
    expect(client.cutOffCalls + cancelled.cutOffCalls).toBe(0);
  });
});

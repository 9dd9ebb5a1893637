import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APICallError, RequestScheduler } from '../src/internal.js';

// Fake clock: the assertions are about when starts are allowed, on the scheduler's own clock.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** When each of `count` calls queued at once started, in ms after they were queued. */
async function startTimes(scheduler: RequestScheduler, count: number, runForMs: number): Promise<number[]> {
  const starts: number[] = [];
  const t0 = Date.now();
  const calls = Array.from({ length: count }, () => scheduler.run(async () => void starts.push(Date.now() - t0)));
  await vi.advanceTimersByTimeAsync(runForMs);
  await Promise.all(calls);
  return starts;
}

describe('RequestScheduler pacing at the full RPM budget', () => {
  it('spaces starts at the full rate and counts each against the next 60 s plus the window margin', async () => {
    // 6 RPM: a start every 10 s; the seventh may start only 60.5 s after the first.
    const scheduler = new RequestScheduler({ requestsPerMinute: 6, windowMarginMs: 500 });
    expect(await startTimes(scheduler, 8, 80_000)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_500, 70_500]);
  });

  it('an explicit headroom still scales the RPM budget', async () => {
    const scheduler = new RequestScheduler({ requestsPerMinute: 6, headroom: 0.5 });
    expect(await startTimes(scheduler, 3, 60_000)).toEqual([0, 20_000, 40_000]);
  });

  it('a 429 of a request within the RPM (the window full, not over) delays only its own retry', async () => {
    const scheduler = new RequestScheduler({ requestsPerMinute: 6, random: () => 0 });
    let attempts = 0;
    const calls = Array.from({ length: 6 }, (_, i) =>
      scheduler.run(async () => {
        attempts++;
        // The sixth request of the minute gets a sporadic 429 once.
        if (i === 5 && attempts === 6) throw new APICallError({ message: 'status 429', statusCode: 429, retryAfterMs: 1000 });
      }),
    );
    await vi.advanceTimersByTimeAsync(70_000);
    await Promise.all(calls);
    expect(scheduler.stats).toMatchObject({ rateLimited: 1, rateLimitPauses: 0, succeeded: 6 });
  });
});

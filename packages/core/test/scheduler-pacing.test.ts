import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APICallError, RequestScheduler } from '../src/internal.js';

// Fake clock: the assertions are about what the scheduler decided, not about how long it took.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RequestScheduler: what a 429 pauses at the edge of the RPM window', () => {
  it('a 429 of a request within the RPM (the window full, not over) delays only its own retry', async () => {
    // headroom 1 (a user's choice): the window then holds exactly the RPM at the sixth start.
    const scheduler = new RequestScheduler({ requestsPerMinute: 6, headroom: 1, random: () => 0 });
    let attempts = 0;
    const calls = Array.from({ length: 6 }, (_, i) =>
      scheduler.run(async () => {
        attempts++;
        // The sixth request of the minute gets a sporadic 429 once.
        if (i === 5 && attempts === 6) throw new APICallError({ message: 'status 429', statusCode: 429, retryAfterMs: 1000 });
      }),
    );
    await vi.advanceTimersByTimeAsync(130_000);
    await Promise.all(calls);
    expect(scheduler.stats).toMatchObject({ rateLimited: 1, rateLimitPauses: 0, succeeded: 6 });
  });
});

import { describe, expect, it, vi } from 'vitest';
import { RequestScheduler, defaultConcurrency } from '../src/internal.js';

describe('RequestScheduler default concurrency', () => {
  it('is 8 without an RPM budget, else 10 s of requests at the budget (8 to 256)', () => {
    expect(defaultConcurrency()).toBe(8);
    expect(defaultConcurrency(0)).toBe(8);
    expect(defaultConcurrency(30)).toBe(8);
    expect(defaultConcurrency(600)).toBe(100);
    expect(defaultConcurrency(1200)).toBe(200);
    expect(defaultConcurrency(100_000)).toBe(256);
    expect(new RequestScheduler().options.maxConcurrency).toBe(8);
    expect(new RequestScheduler({ requestsPerMinute: 1200 }).options.maxConcurrency).toBe(200);
    // An explicit concurrency always wins.
    expect(new RequestScheduler({ requestsPerMinute: 1200, maxConcurrency: 4 }).options.maxConcurrency).toBe(4);
  });

  it('lets an RPM budget, not a fixed cap of 8, pace requests to a slow endpoint', async () => {
    // 60,000 RPM: starts 1 ms apart. Every answer waits until 20 requests are in flight at once,
    // which a cap of 8 would never allow.
    const scheduler = new RequestScheduler({ requestsPerMinute: 60_000 });
    let running = 0;
    let release!: () => void;
    const allIn = new Promise<void>((resolve) => (release = resolve));
    const tasks = Array.from({ length: 20 }, () =>
      scheduler.run(async () => {
        running++;
        if (running === 20) release();
        await allIn;
      }),
    );
    await vi.waitFor(() => expect(running).toBe(20), { timeout: 5000 });
    await Promise.all(tasks);
    expect(scheduler.stats.succeeded).toBe(20);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APICallError, AbortError, RequestScheduler } from '../src/internal.js';

// Fake clock: on a loaded machine a pause of one spacing between two queued calls lets the budget
// start the later one at once, which is right for the scheduler but not what these tests assert.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RequestScheduler priorities', () => {
  it('starts waiting requests by priority, then in arrival order, under an RPM budget', async () => {
    // 6,000 RPM: a start every 10 ms, so all the calls below wait for the budget.
    const scheduler = new RequestScheduler({ requestsPerMinute: 6000, headroom: 1 });
    const started: string[] = [];
    const call = (name: string, priority?: number) =>
      scheduler.run(
        async () => {
          started.push(name);
        },
        priority === undefined ? {} : { priority },
      );
    const first = call('first', 5);
    // Queued while `first` holds the budget: later units first, an earlier unit last.
    const rest = [call('unit 3 a', 3), call('unit 2', 2), call('unit 3 b', 3), call('no priority'), call('unit 1', 1)];
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([first, ...rest]);
    expect(started).toEqual(['first', 'no priority', 'unit 1', 'unit 2', 'unit 3 a', 'unit 3 b']);
  });

  it('a retry keeps the place its request first took, ahead of later arrivals of the same priority', async () => {
    const scheduler = new RequestScheduler({ requestsPerMinute: 3000, headroom: 1, initialBackoffMs: 1, maxBackoffMs: 1 });
    const started: string[] = [];
    let failedOnce = false;
    const head = scheduler.run(async () => {
      started.push('head');
      if (!failedOnce) {
        failedOnce = true;
        throw new APICallError({ message: 'status 500', statusCode: 500 });
      }
    });
    // Six later requests queue behind the head's first attempt (one start per 20 ms).
    const later = Array.from({ length: 6 }, (_, i) => scheduler.run(async () => void started.push(`later ${i}`)));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([head, ...later]);
    // The retry comes back after 1 ms and goes before the later requests that are still waiting.
    expect(started.indexOf('head', 1)).toBeLessThan(3);
    expect(started).toHaveLength(8);
  });

  it('a request cancelled while it waits for the budget leaves the queue without starting', async () => {
    const scheduler = new RequestScheduler({ requestsPerMinute: 60, headroom: 1 });
    await scheduler.run(async () => undefined);
    const controller = new AbortController();
    // The next start is a second away; cancel the waiting call at once.
    const waiting = scheduler.run(async () => 'ran', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(scheduler.stats.started).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { BatchQueue } from '../src/batch-queue.js';

const echo = async (inputs: number[]) => inputs.map((input) => input * 10);

describe('BatchQueue', () => {
  it('never makes a lone client wait the batching window, even one sent in reply to an answer', async () => {
    // A window of a minute: were it waited, this test would time out.
    const queue = new BatchQueue({ maxBatch: 8, windowMs: 60_000 });
    const sizes: number[] = [];
    const runner = async (inputs: number[]) => (sizes.push(inputs.length), echo(inputs));
    for (let index = 0; index < 5; index++) expect(await queue.run(index, runner, { key: 'same' })).toBe(index * 10);
    expect(sizes).toEqual([1, 1, 1, 1, 1]);
  });

  it('gathers requests that wait behind a call into one batch per key, oldest first, and drops the ones whose client left', async () => {
    const queue = new BatchQueue({ maxBatch: 4, windowMs: 0 });
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runner = async (inputs: number[]) => {
      batches.push(inputs);
      await gate;
      return echo(inputs);
    };
    const first = queue.run(1, runner, { key: 'a' });
    const left = new AbortController();
    const waiting = [queue.run(2, runner, { key: 'a' }), queue.run(3, runner, { key: 'b' }), queue.run(4, runner, { key: 'a', signal: left.signal }), queue.run(5, runner, { key: 'a' })];
    left.abort();
    await expect(waiting[2]).rejects.toMatchObject({ status: 499 });
    expect(queue.depth).toBe(3);
    release();
    expect(await Promise.all([first, waiting[0], waiting[1], waiting[3]])).toEqual([10, 20, 30, 50]);
    expect(batches).toEqual([[1], [2, 5], [3]]);
  });

  it('refuses what does not fit, all or none', () => {
    const queue = new BatchQueue({ maxBatch: 2, maxWaiting: 1 });
    // Idle: a batch's worth may gather, plus the waiting room.
    expect(() => queue.ensureRoom(3)).not.toThrow();
    expect(() => queue.ensureRoom(4)).toThrow(expect.objectContaining({ status: 429, headers: { 'Retry-After': '2' } }));
  });
});

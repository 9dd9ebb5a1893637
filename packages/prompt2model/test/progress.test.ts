import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressEmitter } from '@prompt2model/core/internal';
import { attachProgressRenderer } from '../src/progress.js';

function render(json = false) {
  let stderr = '';
  const events = new ProgressEmitter();
  const stop = attachProgressRenderer(events, { io: { stdout: () => undefined, stderr: (t) => (stderr += t), isTTY: false, env: {} }, json, verbose: false });
  return { events, stop, output: () => stderr };
}

describe('plain progress rendering (non-TTY)', () => {
  afterEach(() => vi.useRealTimers());

  it('prints nothing per step for a quick stage, and throttled rounded lines for a long one', () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const { events, stop, output } = render();
    events.emit({ type: 'stage-start', stage: 'parse' });
    for (let i = 0; i <= 4; i++) events.emit({ type: 'progress', stage: 'parse', done: i, total: 4 });
    events.emit({ type: 'stage-finish', stage: 'parse', status: 'done', durationMs: 1 });
    expect(output()).not.toContain('[parse]');
    expect(output()).toContain('✓ parse: done');

    events.emit({ type: 'stage-start', stage: 'train' });
    for (let step = 1; step <= 100; step++) {
      vi.setSystemTime(step * 100); // 10 s in all
      events.emit({ type: 'progress', stage: 'train', done: step, total: 100, counters: { loss: 1 / step } });
    }
    const lines = output().split('\n').filter((line) => line.startsWith('[train]'));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines.at(-1)).toMatch(/^\[train\] 100\/100 loss=0\.01 · \$0\.0000$/);
    stop();
  });

  it('with --json prints only warnings', () => {
    const { events, output } = render(true);
    events.emit({ type: 'stage-start', stage: 'generate' });
    events.log('info', 'hello');
    events.log('warn', 'careful');
    expect(output()).toBe('warning: careful\n');
  });
});

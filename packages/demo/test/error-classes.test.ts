import { describe, expect, it, vi } from 'vitest';
import { Prompt2ModelError } from '@prompt2model/core/internal';

// The demo's errors are core errors with their own marker: isInstance holds across two copies.
describe('demo error classes', () => {
  it('DemoHttpError, DemoExportError and DemoConfigError are recognised across copies of the package', async () => {
    const first = await import('../src/internal.js');
    vi.resetModules();
    const second = await import('../src/internal.js');
    expect(second.DemoHttpError).not.toBe(first.DemoHttpError);
    const busy = new second.DemoHttpError(429, 'busy', 'The model is busy.', { 'Retry-After': '2' });
    expect(first.DemoHttpError.isInstance(busy)).toBe(true);
    expect(busy instanceof first.DemoHttpError).toBe(false);
    expect(busy.isRetryable).toBe(true);
    expect(new second.DemoHttpError(400, 'invalid_json', 'Not JSON.').isRetryable).toBe(false);
    expect(Prompt2ModelError.isInstance(busy)).toBe(true);
    const exportError = new second.DemoExportError({ message: 'no ONNX weights' });
    const configError = new second.DemoConfigError({ message: 'port in use', hint: 'Pick another `port`.' });
    expect([first.DemoExportError.isInstance(exportError), first.DemoConfigError.isInstance(configError)]).toEqual([true, true]);
    expect([first.DemoExportError.isInstance(configError), first.DemoHttpError.isInstance(exportError)]).toEqual([false, false]);
    expect(configError.exitCategory).toBe('configuration');
  });

  it('a public host without a token is a DemoConfigError whose hint names the option, not a flag', async () => {
    const { DemoConfigError, startDemoServer } = await import('../src/internal.js');
    const error = await startDemoServer({ host: '0.0.0.0', port: 0 } as never).catch((caught: unknown) => caught);
    expect(DemoConfigError.isInstance(error)).toBe(true);
    expect((error as Prompt2ModelError).hint).toContain('`DemoServerOptions.accessToken`');
    expect((error as Prompt2ModelError).hint).not.toMatch(/--[a-z]/);
  });
});

import { describe, expect, it, vi } from 'vitest';

// isInstance must hold across two copies of the package (two versions in one node_modules), where
// instanceof fails: vi.resetModules() gives a second, separate instance of every class.
type Errors = typeof import('../src/errors/index.js');

const samples = (errors: Errors) => ({
  Prompt2ModelError: new errors.Prompt2ModelError({ message: 'base' }),
  APICallError: new errors.APICallError({ message: 'down', statusCode: 503 }),
  ValidationError: new errors.ValidationError({ subject: 'job', issues: [{ path: 'epochs', message: 'too many' }] }),
  BudgetExceededError: new errors.BudgetExceededError({ spentUsd: 1, maxCostUsd: 1 }),
  AbortError: new errors.AbortError(),
  LoadSettingError: new errors.LoadSettingError({ message: 'no key', environmentVariableName: 'OPENAI_API_KEY' }),
  NoSuchEntryError: new errors.NoSuchEntryError({ kind: 'backend', entryName: 'x', available: ['local'] }),
  InvalidArgumentError: new errors.InvalidArgumentError({ argument: 'maxConcurrency', value: 0, expected: 'at least 1' }),
  InsufficientDataError: new errors.InsufficientDataError({ count: 3, target: 100, message: 'too few' }),
});

describe('error classes', () => {
  it('recognise each other across two copies of the package, and only their own kind', async () => {
    const first = await import('../src/errors/index.js');
    vi.resetModules();
    const second = await import('../src/errors/index.js');
    expect(second.InvalidArgumentError).not.toBe(first.InvalidArgumentError);
    const fromSecond = samples(second);
    for (const [name, error] of Object.entries(fromSecond)) {
      const FirstClass = first[name as keyof typeof fromSecond] as unknown as { isInstance(e: unknown): boolean };
      expect({ name, instanceOf: error instanceof (FirstClass as unknown as new () => unknown), isInstance: FirstClass.isInstance(error) }).toEqual({ name, instanceOf: false, isInstance: true });
      expect(first.Prompt2ModelError.isInstance(error)).toBe(true);
      expect(error.name).toBe(name);
      for (const other of Object.keys(fromSecond)) {
        if (other === name || other === 'Prompt2ModelError') continue;
        expect({ name, other, isInstance: (first[other as keyof typeof fromSecond] as unknown as { isInstance(e: unknown): boolean }).isInstance(error) }).toEqual({ name, other, isInstance: false });
      }
    }
    expect(first.Prompt2ModelError.isInstance(new Error('plain'))).toBe(false);
  });

  it('InvalidArgumentError names the option, is a configuration error (CLI exit 2) and redacts secrets', async () => {
    const { InvalidArgumentError } = await import('../src/errors/index.js');
    // A fake key, joined at run time so the source holds nothing shaped like a real one.
    const error = new InvalidArgumentError({ argument: 'apiKey', value: ['sk', 'proj', 'abcdefghijklmnopqrstuvwxyz012345'].join('-'), expected: 'a key of this project' });
    expect(error.message).toMatch(/^`apiKey` must be a key of this project, got /);
    expect(error.message).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
    expect(String(error.value)).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
    expect(error.exitCategory).toBe('configuration');
    expect(error.argument).toBe('apiKey');
  });

  it('carry hints without CLI flags: options in backticks, which the CLI turns into its flags', async () => {
    const errors = await import('../src/errors/index.js');
    for (const error of Object.values(samples(errors))) expect({ name: error.name, hint: error.hint ?? '' }).not.toMatchObject({ hint: expect.stringMatching(/--[a-z]/) });
    expect(new errors.BudgetExceededError({ spentUsd: 1, maxCostUsd: 1 }).hint).toContain('`maxCostUsd`');
  });
});

import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createOpenAIFineTuningBackend } from '@prompt2model/openai';
import { LocalBackend } from '../src/index.js';
import { FAKE_WORKER, tempDir } from './helpers.js';

// TrainerBackend.checkReady: what preflight asks each backend before the run's first paid call.
describe('checkReady', () => {
  it('local: a runnable worker command is ready; a missing one says which', async () => {
    await expect(new LocalBackend({ workerCommand: [process.execPath, FAKE_WORKER] }).checkReady()).resolves.toBeUndefined();
    await expect(new LocalBackend({ workerCommand: ['/no/such/worker'] }).checkReady()).rejects.toMatchObject({ message: 'the worker command /no/such/worker cannot be run.' });
  });

  it('local: names the Python that is missing, or the packages it lacks', async () => {
    const { dir, cleanup } = await tempDir();
    onTestFinished(cleanup);
    await expect(new LocalBackend({ python: join(dir, 'no-python') }).checkReady()).rejects.toThrow(/no-python was not found/);
    // A stand-in interpreter that answers the probe: torch and peft are missing.
    const python = join(dir, 'python');
    await writeFile(python, '#!/bin/sh\necho torch,peft\n');
    await chmod(python, 0o755);
    const error = await new LocalBackend({ python }).checkReady().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: `local training cannot start: ${python} lacks torch,peft.` });
    expect((error as { hint: string }).hint).toMatch(/prompt2model setup/);
  });

  it('openai: ready with a key (given or in the environment), not without; another endpoint may need none', async () => {
    await expect(createOpenAIFineTuningBackend({ apiKey: 'sk-test', env: {} }).checkReady()).resolves.toBeUndefined();
    await expect(createOpenAIFineTuningBackend({ env: { OPENAI_API_KEY: 'sk-env' } }).checkReady()).resolves.toBeUndefined();
    await expect(createOpenAIFineTuningBackend({ env: {} }).checkReady()).rejects.toThrow(/needs an API key/);
    await expect(createOpenAIFineTuningBackend({ baseURL: 'http://127.0.0.1:9/v1', env: {} }).checkReady()).resolves.toBeUndefined();
  });
});

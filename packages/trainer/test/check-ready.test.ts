import { chmod, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createOpenAIFineTuningBackend } from '@prompt2model/openai/internal';
import { LocalBackend, RayBackend } from '../src/internal.js';
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

  it('ray: without Ray in the Python, one sentence naming it and the setup command that adds it', async () => {
    const { dir, cleanup } = await tempDir();
    onTestFinished(cleanup);
    // A stand-in interpreter: the training stack is there (empty answer), Ray is not.
    const python = join(dir, 'python');
    await writeFile(python, '#!/bin/sh\ncase "$2" in *ray*) echo missing ;; *) echo ;; esac\n');
    await chmod(python, 0o755);
    const error = await new RayBackend({ python }).checkReady().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ message: `Ray Train is not installed in ${python}.`, exitCategory: 'configuration' });
    expect((error as { hint: string }).hint).toMatch(/prompt2model setup --with ray/);
  });

  it('ray: a named cluster must answer; a malformed address is refused', async () => {
    const { dir, cleanup } = await tempDir();
    onTestFinished(cleanup);
    const python = join(dir, 'python');
    await writeFile(python, '#!/bin/sh\necho\n');
    await chmod(python, 0o755);
    const server = createServer((socket) => socket.end());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const port = (server.address() as { port: number }).port;
    await expect(new RayBackend({ python, address: `ray://127.0.0.1:${port}` }).checkReady()).resolves.toBeUndefined();
    await expect(new RayBackend({ python, address: `127.0.0.1:${port}` }).checkReady()).resolves.toBeUndefined();
    await expect(new RayBackend({ python, address: 'ray://127.0.0.1:9' }).checkReady()).rejects.toThrow(/The Ray cluster at ray:\/\/127\.0\.0\.1:9 cannot be reached \(ECONNREFUSED\)/);
    await expect(new RayBackend({ python, address: 'http://head' }).checkReady()).rejects.toThrow(/not one Ray accepts/);
  });

  it('openai: ready with a key (given or in the environment), not without; another endpoint may need none', async () => {
    await expect(createOpenAIFineTuningBackend({ apiKey: 'sk-test', env: {} }).checkReady()).resolves.toBeUndefined();
    await expect(createOpenAIFineTuningBackend({ env: { OPENAI_API_KEY: 'sk-env' } }).checkReady()).resolves.toBeUndefined();
    await expect(createOpenAIFineTuningBackend({ env: {} }).checkReady()).rejects.toThrow(/needs an API key/);
    await expect(createOpenAIFineTuningBackend({ baseURL: 'http://127.0.0.1:9/v1', env: {} }).checkReady()).resolves.toBeUndefined();
  });
});

import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { childProcessEnvironment } from '@prompt2model/core/internal';
import { CommandBackend, exportOnnx, LocalBackend } from '../src/internal.js';
import { makeContext, tempDir, toyRows, writeRows } from './helpers.js';

// Child processes get core's childProcessEnvironment: the parent's environment without the API
// keys the job does not use. Every test starts real children that write down what they received.
const ENV_WORKER = resolve(import.meta.dirname, 'fixtures/env-worker.mjs');
const SECRETS = { OPENAI_API_KEY: 'sk-parent-openai-key-0123456789', HF_TOKEN: 'hf_parent_token_0123456789', DEEPL_AUTH_KEY: 'deepl-parent-key:fx' };
let saved: Record<string, string | undefined> = {};
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => ({ dir, cleanup } = await tempDir('p2m-child-env-')));
afterAll(() => cleanup());
beforeEach(() => {
  saved = Object.fromEntries(Object.keys(SECRETS).map((name) => [name, process.env[name]]));
  Object.assign(process.env, SECRETS);
  process.env.P2M_CHILD_ENV_MARKER = 'inherited';
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  delete process.env.P2M_CHILD_ENV_MARKER;
});

const readEnv = async (folder: string) => JSON.parse(await readFile(join(folder, 'env.json'), 'utf8')) as Record<string, string | undefined>;

describe('child processes get no key they do not need', () => {
  it('a spawned child of childProcessEnvironment() has PATH and the rest, and no API key', () => {
    const printed = execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { env: childProcessEnvironment() });
    const env = JSON.parse(printed.toString()) as Record<string, string>;
    expect(env.P2M_CHILD_ENV_MARKER).toBe('inherited');
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.OPENAI_API_KEY).toBeUndefined();
    expect(env.HF_TOKEN).toBeUndefined();
    expect(env.DEEPL_AUTH_KEY).toBeUndefined();
    // A job that reaches the Hub keeps its token, and only that.
    const kept = JSON.parse(execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { env: childProcessEnvironment({}, { keep: ['HF_TOKEN'] }) }).toString());
    expect({ hf: kept.HF_TOKEN, openai: kept.OPENAI_API_KEY }).toEqual({ hf: SECRETS.HF_TOKEN, openai: undefined });
  });

  it('the ONNX export worker gets no key at all', async () => {
    const out = join(dir, 'export');
    await mkdir(out, { recursive: true });
    await exportOnnx({ model: dir, out, workerCommand: [process.execPath, ENV_WORKER] });
    const env = await readEnv(out);
    expect(env.P2M_CHILD_ENV_MARKER).toBe('inherited');
    expect({ openai: env.OPENAI_API_KEY, hf: env.HF_TOKEN, deepl: env.DEEPL_AUTH_KEY }).toEqual({ openai: undefined, hf: undefined, deepl: undefined });
  });

  it('the local training worker gets HF_TOKEN (gated base models) but never OPENAI_API_KEY', async () => {
    const train = await writeRows(join(dir, 'train.jsonl'), toyRows(8));
    const { context } = await makeContext(join(dir, 'run'));
    const backend = new LocalBackend({ workerCommand: [process.execPath, ENV_WORKER] });
    const job = { baseModel: 'google/flan-t5-small', epochs: 1, batchSize: 4, instruction: 'Add one.', data: { train } };
    const handle = await backend.submit(job as never, context);
    for await (const event of backend.watch(handle, context)) if (event.type === 'done') break;
    const env = await readEnv(handle.dir!);
    expect({ openai: env.OPENAI_API_KEY, hf: env.HF_TOKEN, deepl: env.DEEPL_AUTH_KEY }).toEqual({ openai: undefined, hf: SECRETS.HF_TOKEN, deepl: undefined });
  });

  it('a remote-training launch command gets HF_TOKEN but never OPENAI_API_KEY', async () => {
    const { context } = await makeContext(join(dir, 'run-command'));
    const backend = new CommandBackend({ launch: `${JSON.stringify(process.execPath)} ${JSON.stringify(ENV_WORKER)}` });
    const train = await writeRows(join(dir, 'train-command.jsonl'), toyRows(8));
    const handle = await backend.submit({ baseModel: 'google/flan-t5-small', epochs: 1, batchSize: 4, instruction: 'Add one.', data: { train } } as never, context);
    for await (const event of backend.watch(handle, context)) if (event.type === 'done') break;
    const env = await readEnv(handle.dir!);
    expect({ openai: env.OPENAI_API_KEY, hf: env.HF_TOKEN }).toEqual({ openai: undefined, hf: SECRETS.HF_TOKEN });
  });
});

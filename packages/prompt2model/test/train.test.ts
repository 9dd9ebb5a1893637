import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startOpenAIFineTuningServer, type OpenAIFineTuningServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from './support/run-cli.js';

// A stand-in worker that speaks the trainer's JSON-lines protocol (no Python or GPU needed).
const FAKE_WORKER = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-worker.mjs');

let dir: string;
let data: string;
let server: OpenAIFineTuningServer;

const run = runCliCaptured;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-train-'));
  data = join(dir, 'data');
  await mkdir(data);
  const rows = (n: number, offset = 0) =>
    Array.from({ length: n }, (_, i) => JSON.stringify({ input: `${i + offset} plus one`, output: String(i + offset + 1) })).join('\n') + '\n';
  await writeFile(join(data, 'train.jsonl'), rows(12));
  // OpenAI rejects a validation file under 10 rows; `small` has the 4-row one it would reject.
  await writeFile(join(data, 'validation.jsonl'), rows(10, 100));
  await writeFile(join(data, 'prompt-spec.json'), JSON.stringify({ instruction: 'Add one.', examples: [], language: 'en' }));
  await mkdir(join(dir, 'small'));
  await writeFile(join(dir, 'small', 'train.jsonl'), rows(12));
  await writeFile(join(dir, 'small', 'validation.jsonl'), rows(4, 100));
  server = await startOpenAIFineTuningServer({ apiKey: 'sk-loopback-cli-key', stepsPerPoll: 3 });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('prompt2model train', () => {
  it('--estimate-only --json prints the validated job and the estimate without launching', async () => {
    const { code, stdout } = await run(['train', '--data', data, '--base-model', 'google/flan-t5-small', '--out', join(dir, 'est'), '--estimate-only', '--json', '--gpu-price', '2']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.job.instruction).toBe('Add one.');
    expect(result.job.lora.targetModules).toEqual(['q', 'k', 'v', 'o']);
    expect(result.estimate.trainExamples).toBe(12);
    expect(result.estimate.pricing).toMatchObject({ kind: 'gpu-time', gpuHourlyUsd: 2 });
    expect(result.withinBudget).toBe(true);
  });

  it('takes --base-model as a model name: hf:<id> trains the Hub id, an unknown --backend lists the known ones', async () => {
    const named = await run(['train', '--data', data, '--base-model', 'hf:google/flan-t5-small', '--out', join(dir, 'named'), '--estimate-only', '--json']);
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout).job.baseModel).toBe('google/flan-t5-small');
    const unknown = await run(['train', '--data', data, '--base-model', 'gpt2', '--backend', 'slurm']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/local, openai, command/);
  });

  it('trains with the local backend (stand-in worker), prints the model folder, and reuses it on rerun', async () => {
    const env = { P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]) };
    const out = join(dir, 'local');
    const first = await run(['train', '--data', data, '--base-model', 'gpt2', '--out', out, '--epochs', '2', '--batch-size', '4'], env);
    expect(first.stderr).toMatch(/Estimate \(local\)/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`Trained model \\(local, lora\\): ${join(out, 'training')}/local-[0-9a-f]{12}/output/merged`));
    const again = await run(['train', '--data', data, '--base-model', 'gpt2', '--out', out, '--epochs', '2', '--batch-size', '4', '--json'], env);
    expect(again.code).toBe(0);
    const reference = JSON.parse(again.stdout).reference as string;
    expect(first.stdout).toContain(reference);
  });

  it('splits a `generate` run folder (dataset.jsonl) by input hash and trains on it', async () => {
    const generated = join(dir, 'generated');
    await mkdir(generated);
    const rows = Array.from({ length: 60 }, (_, i) => JSON.stringify({ input: `${i} plus one`, output: String(i + 1) })).join('\n') + '\n';
    await writeFile(join(generated, 'dataset.jsonl'), rows);
    await writeFile(join(generated, 'prompt-spec.json'), JSON.stringify({ instruction: 'Add one.', examples: [], language: 'en' }));
    const env = { P2M_WORKER_COMMAND: JSON.stringify([process.execPath, FAKE_WORKER]) };
    const { code, stdout } = await run(['train', '--data', generated, '--base-model', 'google/flan-t5-small', '--epochs', '1', '--json'], env);
    expect(code).toBe(0);
    const splits = JSON.parse(await readFile(join(generated, 'splits.json'), 'utf8'));
    expect(splits.counts.train + splits.counts.validation + splits.counts.test).toBe(60);
    expect(splits.counts.test).toBeGreaterThan(0);
    const trainRows = (await readFile(join(generated, 'train.jsonl'), 'utf8')).trim().split('\n');
    expect(trainRows).toHaveLength(splits.counts.train);
    expect(JSON.parse(stdout).metrics.steps).toBe(Math.ceil(splits.counts.train / 8));
  });

  it('trains with the openai backend against a loopback fine-tuning server and prints the model id', async () => {
    const { code, stdout, stderr } = await run(
      ['train', '--backend', 'openai', '--data', data, '--base-model', 'gpt-4o-mini-2024-07-18', '--out', join(dir, 'openai'), '--epochs', '1', '--poll-interval', '0', '--base-url', server.url, '--json'],
      { OPENAI_API_KEY: 'sk-loopback-cli-key' },
    );
    expect(stderr).not.toContain('sk-loopback-cli-key');
    expect(code).toBe(0);
    const model = JSON.parse(stdout);
    expect(model.kind).toBe('managed-model');
    expect(model.reference).toMatch(/^ft:gpt-4o-mini-2024-07-18:/);
  });

  it("trains without a validation file under OpenAI's 10-row minimum, and says so (the file is optional)", async () => {
    const { code, stderr } = await run(
      ['train', '--backend', 'openai', '--data', join(dir, 'small'), '--base-model', 'gpt-4o-mini-2024-07-18', '--out', join(dir, 'small-run'), '--epochs', '1', '--poll-interval', '0', '--base-url', server.url],
      { OPENAI_API_KEY: 'sk-loopback-cli-key' },
    );
    expect(stderr).not.toMatch(/^error/m);
    expect(code).toBe(0);
    expect(stderr).toMatch(/The validation file holds 4 rows and OpenAI fine-tuning needs at least 10 in one: training runs without a validation file/);
    const handle = JSON.parse(await readFile(join(dir, 'small-run', 'training', 'handle.json'), 'utf8'));
    expect(handle.handle.validationFile).toBeUndefined();
    expect(handle.handle.trainingFile).toBeTruthy();
  });

  it('stops before launching when the estimate passes --max-cost (exit 3)', async () => {
    const { code, stderr } = await run(
      ['train', '--backend', 'openai', '--data', data, '--base-model', 'gpt-4o-2024-08-06', '--out', join(dir, 'budget'), '--max-cost', '0.000001', '--base-url', server.url],
      { OPENAI_API_KEY: 'sk-loopback-cli-key' },
    );
    expect(code).toBe(3);
    expect(stderr).toMatch(/Budget cap/);
  });

  it('reports usage errors: missing data, command backend without --launch', async () => {
    const missing = await run(['train', '--data', join(dir, 'nowhere'), '--base-model', 'gpt2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No train.jsonl \(or dataset.jsonl\)/);
    const noLaunch = await run(['train', '--backend', 'command', '--data', data, '--base-model', 'gpt2', '--out', join(dir, 'cmd')]);
    expect(noLaunch.code).toBe(2);
    expect(noLaunch.stderr).toMatch(/needs --launch/);
  });
});

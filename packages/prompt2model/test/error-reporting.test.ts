import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { OPTION_FLAGS, withCliFlags } from '../src/error-flags.js';
import { runCliCaptured } from './support/run-cli.js';
import { spawnCli } from './support/spawn-cli.js';

// Library errors name their options (`minAgreement`); the CLI reports its own flags and exits 2 for
// an invalid option, checked in a fresh process as a user runs it.
let dir: string;
let server: OpenAICompatibleServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-cli-errors-'));
  server = await startOpenAICompatibleServer({ respond: () => 'positive' });
  await writeFile(join(dir, 'prompt.txt'), 'Classify the review.\n\nInput: good film\nOutput: positive\n\nInput: bad film\nOutput: negative\n');
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('CLI error reporting', () => {
  it('an option the generator refuses (InvalidArgumentError) exits 2, names the flag, and spends nothing', async () => {
    const out = join(dir, 'run');
    const result = await spawnCli(
      ['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '5', '--out', out, '--teacher', 'loopback-model', '--min-agreement', '1.5'],
      { env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', P2M_CACHE_DIR: join(dir, 'cache') } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: --min-agreement must be in [0, 1], got 1.5.');
    expect(result.stderr).not.toMatch(/RangeError|`minAgreement`|at .*\.ts:\d+/);
    expect(server.stats.requests).toBe(0);
    expect((await readdir(out)).filter((name) => name.endsWith('.jsonl'))).toEqual([]);
  });

  it('the same error as JSON names its class', async () => {
    const result = await spawnCli(
      ['generate', '--prompt', join(dir, 'prompt.txt'), '--num-examples', '5', '--out', join(dir, 'run-json'), '--teacher', 'loopback-model', '--min-agreement', '1.5', '--json'],
      { env: { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', P2M_CACHE_DIR: join(dir, 'cache') } },
    );
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr.trim().split('\n').at(-1)!)).toMatchObject({ error: { name: 'InvalidArgumentError', message: '--min-agreement must be in [0, 1], got 1.5.' } });
  });

  it('run --teacher hf:... checks HF_TOKEN before anything, not the OpenAI variables (exit 2)', async () => {
    const result = await runCliCaptured(['run', '--prompt', join(dir, 'prompt.txt'), '--out', join(dir, 'run-hf'), '--teacher', 'hf:meta-llama/Llama-3.3-70B-Instruct', '--no-train'], {
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: server.url,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HF_TOKEN is not set');
    expect(server.stats.requests).toBe(0);
  });

  it('maps backticked option names to flags and leaves other code spans alone', () => {
    expect(withCliFlags('Raise `maxCostUsd` and rerun with the same `outDir`.')).toBe('Raise --max-cost and rerun with the same --out.');
    expect(withCliFlags('Run `prompt2model setup --force` first; `unknownOption` stays.')).toBe('Run `prompt2model setup --force` first; `unknownOption` stays.');
    for (const flag of Object.values(OPTION_FLAGS)) expect(flag).toMatch(/^--[a-z]/);
  });
});

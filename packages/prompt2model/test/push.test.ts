import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { runCliCaptured } from './support/run-cli.js';

const TOKEN = 'hf_cli_push_token_0000';
let root: string;
let server: HubServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-cli-push-'));
  server = await startHubServer({ models: [], writeToken: TOKEN });
  const files: Record<string, string> = {
    'model/config.json': '{"model_type":"llama"}',
    'model/model.safetensors': 'weights',
    'model/tokenizer.json': '{}',
    'model/README.md': '---\nlicense: apache-2.0\n---\n',
    'model/training_args.bin': 'not for the Hub',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('prompt2model push', () => {
  it('creates the repo on the Hub and uploads the model folder with its card', async () => {
    const result = await runCliCaptured(['push', '--model', join(root, 'model'), '--repo', 'me/tiny', '--private', '--json'], { HF_TOKEN: TOKEN, HF_ENDPOINT: server.url });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ repo: 'me/tiny', created: true });
    const repo = server.repos.get('me/tiny')!;
    expect(repo.private).toBe(true);
    expect([...repo.files.keys()].sort()).toEqual(['README.md', 'config.json', 'model.safetensors', 'tokenizer.json']);
  });

  it('without HF_TOKEN it exits 2 and says how to get one', async () => {
    const result = await runCliCaptured(['push', '--model', join(root, 'model'), '--repo', 'me/tiny'], { HF_ENDPOINT: server.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/HF_TOKEN/);
    expect(result.stderr).toMatch(/settings\/tokens/);
  });
});

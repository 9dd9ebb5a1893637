import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadSettingError, Prompt2ModelError } from '@prompt2model/core';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { planModelUpload, pushModel } from '../src/hub/index.js';

const TOKEN = 'hf_test_write_token_0000';
let root: string;
let server: HubServer;

/** A training job's output/ folder as the local trainer leaves it, ONNX export included. */
async function jobOutput(dir: string): Promise<string> {
  const output = join(dir, 'output');
  const files: Record<string, string | Buffer> = {
    'result.json': JSON.stringify({ model: 'merged', merged: 'merged', adapter: 'adapter', tokenizer: 'merged', metrics: {} }),
    'events.jsonl': '{"type":"start"}\n',
    'merged/config.json': '{"model_type":"t5"}',
    'merged/generation_config.json': '{"decoder_start_token_id":0}',
    'merged/model.safetensors': Buffer.alloc(70_000, 7),
    'merged/tokenizer.json': '{"model":{}}',
    'merged/tokenizer_config.json': '{}',
    'merged/README.md': '---\nlicense: apache-2.0\n---\n# Student model\n',
    'adapter/adapter_config.json': '{}',
    'adapter/adapter_model.safetensors': Buffer.alloc(100, 1),
    'checkpoint-8/optimizer.pt': Buffer.alloc(100, 2),
    'checkpoint-8/trainer_state.json': '{}',
    'onnx/config.json': '{"model_type":"t5"}',
    'onnx/tokenizer.json': '{"model":{}}',
    'onnx/README.md': 'the same card',
    'onnx/onnx/encoder_model.onnx': Buffer.alloc(3000, 3),
    'onnx/onnx/decoder_model_merged.onnx': Buffer.alloc(4000, 4),
    'onnx/onnx/decoder_model_merged_quantized.onnx': Buffer.alloc(1000, 5),
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(output, path, '..'), { recursive: true });
    await writeFile(join(output, path), content);
  }
  return output;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-push-'));
  server = await startHubServer({ models: [{ id: 'someone/existing', card: '# x' }], writeToken: TOKEN });
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('pushModel against the loopback Hub', () => {
  it('creates the repo and commits the model, the ONNX export under onnx/ and the card, nothing else', async () => {
    const output = await jobOutput(join(root, 'job'));
    const result = await pushModel({ model: output, repo: 'me/student', private: true, hubUrl: server.url, accessToken: TOKEN });
    expect(result.created).toBe(true);
    expect(result.repoUrl).toBe(`${server.url}/me/student`);
    const repo = server.repos.get('me/student')!;
    expect(repo.private).toBe(true);
    expect([...repo.files.keys()].sort()).toEqual([
      'README.md',
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'onnx/decoder_model_merged.onnx',
      'onnx/decoder_model_merged_quantized.onnx',
      'onnx/encoder_model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    // LFS (weights, ONNX) and regular files both arrive intact; the card is the model folder's.
    expect(repo.files.get('model.safetensors')!.equals(Buffer.alloc(70_000, 7))).toBe(true);
    expect(repo.files.get('onnx/encoder_model.onnx')!.equals(Buffer.alloc(3000, 3))).toBe(true);
    expect(repo.files.get('README.md')!.toString()).toMatch(/^---\nlicense: apache-2\.0/);
    expect(repo.commits).toHaveLength(1);
    expect(result.commit.oid).toBe(repo.commits[0]!.oid);
    expect(server.requests.some((path) => path.includes('checkpoint'))).toBe(false);
  });

  it('pushes again into the existing repo (409 on create) as a second commit', async () => {
    const output = await jobOutput(join(root, 'job-again'));
    const result = await pushModel({ model: join(output, 'merged'), repo: 'me/student', hubUrl: server.url, accessToken: TOKEN });
    expect(result.created).toBe(false);
    expect(server.repos.get('me/student')!.commits).toHaveLength(2);
    expect(result.files.map((file) => file.path)).toContain('onnx/encoder_model.onnx');
  });

  it('needs HF_TOKEN, a valid token, and an OWNER/NAME repo', async () => {
    const output = await jobOutput(join(root, 'job-auth'));
    await expect(pushModel({ model: output, repo: 'me/x', hubUrl: server.url, env: {} })).rejects.toSatisfy((error) => LoadSettingError.isInstance(error));
    await expect(pushModel({ model: output, repo: 'me/x', hubUrl: server.url, accessToken: 'hf_wrong_token_value' })).rejects.toMatchObject({ statusCode: 401 });
    // A token without the hf_ prefix is a setting to fix (exit 2), not a failed request.
    await expect(pushModel({ model: output, repo: 'me/x', hubUrl: server.url, accessToken: 'not-a-hub-token' })).rejects.toSatisfy((error) => LoadSettingError.isInstance(error));
    await expect(pushModel({ model: output, repo: 'no-owner', hubUrl: server.url, accessToken: TOKEN })).rejects.toSatisfy((error) => Prompt2ModelError.isInstance(error));
    expect(server.repos.has('me/x')).toBe(false);
  });

  it('refuses a folder where a file holds a secret, before any request', async () => {
    const output = await jobOutput(join(root, 'job-secret'));
    const secret = 'sk-test-secret-value-1234';
    await writeFile(join(output, 'merged/tokenizer_config.json'), JSON.stringify({ note: secret }));
    const before = server.stats.requests;
    expect(() => planModelUpload(output, { OPENAI_API_KEY: secret })).toThrow(/secret setting/);
    await expect(pushModel({ model: output, repo: 'me/leak', hubUrl: server.url, accessToken: TOKEN, env: { OPENAI_API_KEY: secret, HF_TOKEN: TOKEN } })).rejects.toThrow(/nothing was uploaded/);
    expect(server.stats.requests).toBe(before);
  });
});

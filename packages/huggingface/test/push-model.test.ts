import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, LoadSettingError, Prompt2ModelError } from '@prompt2model/core/internal';
import { startHubServer, type HubServer } from '@prompt2model/testing';
import { pushModel } from '../src/hub/index.js';

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
    await expect(pushModel({ model: output, repo: 'me/leak', hubUrl: server.url, accessToken: TOKEN, env: { OPENAI_API_KEY: secret, HF_TOKEN: TOKEN } })).rejects.toThrow(/nothing was uploaded/);
    expect(server.stats.requests).toBe(before);
  });

  it('scans every file whatever its size: a key deep inside a 6 MB tokenizer.json, or JSON-escaped in safetensors metadata', async () => {
    const secret = 'sk-test-secret-value-5678';
    const env = { OPENAI_API_KEY: secret, HF_TOKEN: TOKEN };
    const big = await jobOutput(join(root, 'job-big-secret'));
    const vocab = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`token_${i}_${'x'.repeat(12)}`, i]));
    await writeFile(join(big, 'onnx/tokenizer.json'), JSON.stringify({ model: { vocab }, note: secret }));
    const before = server.stats.requests;
    const error = await pushModel({ model: big, repo: 'me/leak-big', hubUrl: server.url, accessToken: TOKEN, env }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/tokenizer\.json contains the value of a secret setting/);
    expect(Prompt2ModelError.isInstance(error) && error.exitCategory).toBe('configuration');

    const weights = await jobOutput(join(root, 'job-weights-secret'));
    // safetensors: an 8-byte little-endian header length, the JSON header, then the tensor bytes.
    const header = Buffer.from(JSON.stringify({ __metadata__: { note: secret.replace('sk-', '\\u0073k-') }, w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }).replace('\\\\u0073', '\\u0073'));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    await writeFile(join(weights, 'merged/model.safetensors'), Buffer.concat([length, header, Buffer.alloc(8)]));
    expect(header.toString()).not.toContain(secret);
    await expect(pushModel({ model: weights, repo: 'me/leak-weights', hubUrl: server.url, accessToken: TOKEN, env })).rejects.toThrow(/model\.safetensors contains the value of a secret setting/);
    expect(server.stats.requests).toBe(before);
  });

  it('refuses a folder that holds no model instead of creating an empty repo', async () => {
    const empty = join(root, 'empty-folder');
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'notes.txt'), 'nothing here');
    const before = server.stats.requests;
    await expect(pushModel({ model: empty, repo: 'me/empty', hubUrl: server.url, accessToken: TOKEN })).rejects.toThrow(/No model weights/);
    expect(server.stats.requests).toBe(before);
    expect(server.repos.has('me/empty')).toBe(false);
  });

  it('refuses an ONNX export that another process is writing, or whose writer was killed mid-way, before any request', async () => {
    const output = await jobOutput(join(root, 'locked'));
    const lock = join(output, 'onnx', LOCK_FILE);
    const before = server.stats.requests;
    // A live writer (this test process stands in for the export).
    await writeFile(lock, JSON.stringify({ pid: process.pid, purpose: 'ONNX export' }));
    await expect(pushModel({ model: output, repo: 'me/locked', hubUrl: server.url, accessToken: TOKEN })).rejects.toThrow(/being written right now \(ONNX export, pid \d+\)/);
    // A writer that is gone (kill -9): a pid no process has.
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 12_345, purpose: 'ONNX export' }));
    const stale = await pushModel({ model: output, repo: 'me/locked', hubUrl: server.url, accessToken: TOKEN }).catch((error: unknown) => error);
    expect(Prompt2ModelError.isInstance(stale) && stale.message).toMatch(/left unfinished \(ONNX export, pid \d+ stopped before it was done\)/);
    expect((stale as Prompt2ModelError).exitCategory).toBe('configuration');
    expect(server.stats.requests).toBe(before);
    expect(server.repos.has('me/locked')).toBe(false);
    await rm(lock);
  });

  it('refuses a card the Hub would refuse (a local path as base_model, NaN metrics) before any upload', async () => {
    const output = await jobOutput(join(root, 'job-bad-card'));
    await writeFile(join(output, 'merged/README.md'), '---\nlicense: apache-2.0\nbase_model: "./models/t5"\npipeline_tag: text-generation\n---\n# x\n');
    const before = server.stats.requests;
    await expect(pushModel({ model: output, repo: 'me/bad-card', hubUrl: server.url, accessToken: TOKEN })).rejects.toThrow(/base_model "\.\/models\/t5" is not a Hub model id/);
    await writeFile(join(output, 'merged/README.md'), '---\nbase_model: t5-small\nmodel-index:\n  - name: x\n    results:\n      - metrics:\n          - type: chrf\n            value: .nan\n---\n');
    await expect(pushModel({ model: output, repo: 'me/bad-card', hubUrl: server.url, accessToken: TOKEN })).rejects.toThrow(/metric is \.nan/);
    expect(server.stats.requests).toBe(before);
  });

  it('names the pushed repo in the card’s usage snippet, and keeps the ONNX export’s tokenizer files at the root', async () => {
    const output = await jobOutput(join(root, 'job-snippet'));
    await writeFile(join(output, 'merged/README.md'), "---\nlicense: apache-2.0\n---\n```js\nconst generate = await pipeline('text2text-generation', 'OWNER/NAME');\n```\n");
    await writeFile(join(output, 'merged/tokenizer_config.json'), '{"tokenizer_class":"TokenizersBackend"}');
    await writeFile(join(output, 'onnx/tokenizer_config.json'), '{"tokenizer_class":"PreTrainedTokenizer"}');
    await pushModel({ model: output, repo: 'me/snippet', hubUrl: server.url, accessToken: TOKEN });
    const repo = server.repos.get('me/snippet')!;
    expect(repo.files.get('README.md')!.toString()).toContain("pipeline('text2text-generation', 'me/snippet')");
    expect(repo.files.get('tokenizer_config.json')!.toString()).toBe('{"tokenizer_class":"PreTrainedTokenizer"}');
  });
});

describe('a push over a slow link', () => {
  it('finishes however long it takes: LFS parts one by one, each its own bounded attempt, a failed part retried, progress in bytes, and a second push sends nothing again', async () => {
    // 64 KB parts at 96 KB/s: each part takes ~0.7 s, the whole file ~6 s. Every attempt is bounded by
    // 2.5 s (the default is 120 s): a push that ran under one attempt would be cut at 2.5 s and never
    // finish, as a real push over a 10 KB/s link did at 120 s.
    const slow = await startHubServer({ models: [], writeToken: TOKEN, multipartChunkSize: 64 * 1024, uploadBytesPerSecond: 96 * 1024, failLfsParts: [3] });
    try {
      const output = await jobOutput(join(root, 'job-slow'));
      const weights = Buffer.alloc(560 * 1024);
      for (let i = 0; i < weights.length; i++) weights[i] = (i * 2654435761) >>> 24;
      await writeFile(join(output, 'merged/model.safetensors'), weights);
      const { ProgressEmitter } = await import('@prompt2model/core/internal');
      const events = new ProgressEmitter();
      const done: number[] = [];
      events.on((event) => {
        if (event.type === 'progress' && event.stage === 'push') done.push(event.done);
      });
      const started = Date.now();
      const result = await pushModel({ model: output, repo: 'me/slow', hubUrl: slow.url, accessToken: TOKEN, attemptTimeoutMs: 2500, events });
      const took = Date.now() - started;
      expect(took).toBeGreaterThan(2500 * 2);
      expect(slow.repos.get('me/slow')!.files.get('model.safetensors')!.equals(weights)).toBe(true);
      expect(result.lfs.uploaded).toContain('model.safetensors');
      // 9 parts of the weights (one failed once and was sent again) plus the three ONNX files.
      expect(slow.stats.lfsUploads).toBe(9 + 3);
      expect(slow.stats.byStatus[500]).toBe(1);
      // Progress in bytes: rising, ending at the total.
      expect(done.at(-1)).toBe(result.bytes);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(new Set(done).size).toBeGreaterThan(9);

      const uploads = slow.stats.lfsUploads;
      const again = await pushModel({ model: output, repo: 'me/slow', hubUrl: slow.url, accessToken: TOKEN, attemptTimeoutMs: 2500 });
      expect(again.lfs.skipped.sort()).toEqual(['model.safetensors', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_quantized.onnx', 'onnx/encoder_model.onnx']);
      expect(slow.stats.lfsUploads).toBe(uploads);
      expect(slow.repos.get('me/slow')!.commits).toHaveLength(2);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { createTrainer, DEFAULT_LORA_TARGET_MODULES, LocalBackend, textualize, WorkerExecutor, workerPythonDir } from '../src/internal.js';
import { makeContext, tempDir, toyRows, writeRows } from './helpers.js';

const python = process.env.P2M_PYTHON ?? 'python3';
const hasPython = spawnSync(python, ['--version']).status === 0;
const hasTorch = hasPython && spawnSync(python, ['-c', 'import torch, transformers, peft']).status === 0;
const pythonDir = resolve(import.meta.dirname, '../python');

function runPython(code: string, input: unknown): unknown {
  const result = spawnSync(python, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', env: { ...process.env, PYTHONPATH: pythonDir } });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

// The worker's pure parts need only python3; they skip cleanly where it is absent.
describe.skipIf(!hasPython)('Python worker (pure parts, python3 present)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  // Spawned without blocking, with room for a loaded CI machine: some of these tests import torch.
  it('passes its own unit tests', async () => {
    const result = await new Promise<{ status: number | null; stderr: string }>((done, fail) => {
      const child = spawn(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: pythonDir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', fail);
      child.on('close', (status) => done({ status, stderr }));
    });
    // Without onnx the fold test skips: "OK (skipped=1)" (it never skips when CI requires the stack).
    expect(result.stderr).toMatch(/\nOK( \(skipped=\d+\))?\s*$/);
    expect(result.status).toBe(0);
  }, 120_000);

  it('textualises exactly like the TypeScript side', () => {
    const cases = [
      { example: { input: 'The cat sat.', output: 'Le chat.' }, instruction: 'Translate to French.', architecture: 'encoder-decoder' as const, split: 'train' as const },
      { example: { input: 'ü\n{"json": 1}', output: '  spaced  ' }, instruction: '', architecture: 'decoder-only' as const, split: 'train' as const },
      { example: { input: 'q', output: 'a' }, instruction: 'Answer.', architecture: 'decoder-only' as const, split: 'test' as const },
    ];
    const fromPython = runPython(
      'import json,sys\nfrom p2m_worker.textualize import textualize\nprint(json.dumps([textualize(c["example"], c["instruction"], c["architecture"], c["split"], "</s>") for c in json.load(sys.stdin)]))',
      cases,
    );
    expect(fromPython).toEqual(cases.map((c) => textualize(c.example, { instruction: c.instruction, architecture: c.architecture, split: c.split, eosToken: '</s>' })));
  });

  it('uses the same default LoRA target modules per family', () => {
    const fromPython = runPython('import json\nfrom p2m_worker.modules import FAMILY_MODULES\nprint(json.dumps(FAMILY_MODULES))', null);
    expect(fromPython).toEqual(DEFAULT_LORA_TARGET_MODULES);
  });

  it('finds the worker package next to the sources', () => {
    expect(workerPythonDir()).toBe(pythonDir);
  });

  it.skipIf(hasTorch)('through LocalBackend, names the install command when torch/transformers/peft are missing', async () => {
    const train = await writeRows(join(dir, 'train.jsonl'), toyRows(4));
    const { context } = await makeContext(join(dir, 'run'));
    const error = await createTrainer({ backend: new LocalBackend({ python }) })
      .train({ baseModel: 'google/t5-efficient-tiny', data: { train } } as never, context)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Python packages not installed in .*torch/);
    expect((error as { hint?: string }).hint).toMatch(/prompt2model setup \(or: pip install -r ".*requirements-cpu\.txt"\)/);
  });

  it.skipIf(hasTorch)('through WorkerExecutor, the predict worker names the install command when torch/transformers are missing', async () => {
    const modelDir = join(dir, 'merged');
    await mkdir(modelDir, { recursive: true });
    await writeFile(join(modelDir, 'config.json'), '{}');
    const { context } = await makeContext(join(dir, 'run-predict'));
    const model = { backend: 'local', reference: modelDir, kind: 'local-folder' as const, baseModel: 'x', method: 'full' as const, artifacts: { model: modelDir }, metrics: {} };
    const error = await new WorkerExecutor({ model, python, instruction: 'Add one.' }).execute(['1'], context).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Prediction with .* failed: Python packages not installed in .*torch/);
    expect((error as { hint?: string }).hint).toMatch(/prompt2model setup \(or: pip install -r ".*requirements-cpu\.txt"\)/);
  });
});

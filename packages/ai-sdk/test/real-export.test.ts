import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateText, streamText } from 'ai';
import { createStageContext, formatTrainingPrompt, RUN_FILES, type Prediction } from '@prompt2model/core/internal';
import { OnnxExecutor } from '@prompt2model/evaluator/internal';
import { exportOnnx } from '@prompt2model/trainer';
import { defaultPython } from '@prompt2model/trainer/internal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudent, type StudentLanguageModel } from '../src/index.js';

// A real exported student: a tiny Llama built from a config by the trainer's tiny-model script
// (random weights, word-level tokenizer) and exported by the trainer's ONNX export (the Python
// worker: KV cache, transformers.js layout), in a run folder as training leaves it. It runs where
// the training stack imports (after `prompt2model setup`, or with P2M_PYTHON); CI sets
// P2M_REQUIRE_REAL_STACK=1, and then a missing stack fails instead of skipping.
const python = defaultPython();
const hasStack = spawnSync(python, ['-c', 'import torch, transformers, onnx, onnxscript'], { stdio: 'ignore' }).status === 0;
const TINY_MODELS = resolve(import.meta.dirname, '../../trainer/python/bench/tiny_models.py');
const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const inputs = ['cat dog', 'sun', 'red box fox'];
const maxOutputTokens = 8;

it('has the real training stack when CI requires it', () => {
  if (process.env.P2M_REQUIRE_REAL_STACK === '1') expect({ python, hasStack }).toEqual({ python, hasStack: true });
});

describe.skipIf(!hasStack)('createStudent on a real exported ONNX student', () => {
  let dir: string;
  let runDir: string;
  let instruction: string;
  let student: StudentLanguageModel;
  const greedy: Prediction[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2m-ai-sdk-real-'));
    runDir = join(dir, 'run');
    const built = spawnSync(python, [TINY_MODELS, '--out', runDir, '--kind', 'llama', '--hidden', '32', '--layers', '1', '--rows', '8', '--task', 'uppercase'], { encoding: 'utf8', env });
    if (built.status !== 0) throw new Error(built.stderr);
    instruction = (JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { instruction: string }).instruction;
    await exportOnnx({ model: join(runDir, 'model'), out: join(runDir, 'onnx'), python, env });
    await writeFile(join(runDir, RUN_FILES.promptSpec), JSON.stringify({ instruction, examples: [], language: 'en' }));
    await writeFile(
      join(runDir, RUN_FILES.trainedModel),
      JSON.stringify({ backend: 'local', reference: 'model', kind: 'local-folder', baseModel: 'tiny-llama', method: 'full', artifacts: { model: 'model', onnx: 'onnx' }, metrics: {} }),
    );
    // The executor's own greedy answers, as evaluation runs them.
    const executor = new OnnxExecutor({ model: join(runDir, 'onnx'), maxNewTokens: maxOutputTokens, formatInput: (input) => formatTrainingPrompt(instruction, input) });
    greedy.push(...(await executor.execute(inputs, await createStageContext({ outDir: join(dir, 'greedy'), cacheDir: false }))));
    await executor.dispose();
    student = createStudent({ model: runDir });
  }, 300_000);

  afterAll(async () => {
    await student?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generateText answers exactly as the executor, with its token counts; streamText joins to the same text', async () => {
    for (const [index, prompt] of inputs.entries()) {
      const expected = greedy[index]!;
      const result = await generateText({ model: student, prompt, maxOutputTokens });
      expect(result.text).toBe(expected.output);
      expect(result.usage).toMatchObject({ inputTokens: expected.promptTokens, outputTokens: expected.outputTokens });
      expect(result.finishReason).toBe(expected.finishReason === 'length' ? 'length' : 'stop');
      expect(result.providerMetadata?.prompt2model?.confidence).toBeCloseTo(expected.confidence!, 6);

      const stream = streamText({ model: student, prompt, maxOutputTokens });
      const deltas: string[] = [];
      for await (const delta of stream.textStream) deltas.push(delta);
      expect(deltas.join('')).toBe(expected.output);
      expect((await stream.usage).outputTokens).toBe(expected.outputTokens);
    }
  });

  it('ends the answer before a stop sequence', async () => {
    const answer = greedy.find((prediction) => prediction.output.split(' ').length >= 3)!.output;
    const words = answer.split(' ');
    const prompt = inputs[greedy.findIndex((prediction) => prediction.output === answer)]!;
    const result = await generateText({ model: student, prompt, maxOutputTokens, stopSequences: [` ${words[2]}`] });
    expect(answer.startsWith(result.text)).toBe(true);
    expect(result.text.length).toBeLessThan(answer.length);
    expect(result.text).not.toContain(` ${words[2]}`);
    expect(result.finishReason).toBe('stop');
  });
});

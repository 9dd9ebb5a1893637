import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createProviderRegistry, generateText, streamText } from 'ai';
import { createStageContext, formatTrainingPrompt, InvalidArgumentError, ModelNotFoundError, RUN_FILES, type StreamingExecutor } from '@prompt2model/core/internal';
import { OnnxExecutor } from '@prompt2model/evaluator/internal';
import { workerExecutors } from '@prompt2model/trainer';
import { buildTinyCausalLM, buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudent, createStudentProvider, StudentLanguageModel } from '../src/index.js';

// The real `ai` package's generateText/streamText over real tiny ONNX students (transformers.js
// in this process), laid out as prompt2model leaves them: a run folder with its trained model and
// prompt spec, and bare model folders.
let root: string;
let runDir: string;
let sentimentDir: string;
let chainDir: string;
let loopDir: string;
const instruction = 'Classify the sentiment of the review.';
const students: StudentLanguageModel[] = [];
// The tests read the warnings from the results; the AI SDK need not print them too.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

function student(options: Parameters<typeof createStudent>[0]): StudentLanguageModel {
  const created = createStudent(options);
  students.push(created);
  return created;
}

/** The executor's own greedy answer, with the input in the training prompt. */
async function greedy(model: string, input: string, taskInstruction: string): Promise<string> {
  const executor = new OnnxExecutor({ model, formatInput: (text) => formatTrainingPrompt(taskInstruction, text) });
  const context = await createStageContext({ outDir: join(root, `greedy-${Math.random().toString(36).slice(2)}`), cacheDir: false });
  const [prediction] = await executor.execute([input], context);
  await executor.dispose();
  return prediction!.output;
}

/** The talking-forever student, counting the pieces it generates whether or not they reach a reader. */
function countingLoopStudent(): { model: StudentLanguageModel; generated: () => number } {
  const created = student({ model: loopDir, instruction: '' });
  let count = 0;
  const executor = created.executor as StreamingExecutor;
  const counting: StreamingExecutor = {
    specificationVersion: 'v1',
    name: executor.name,
    modelId: executor.modelId,
    execute: executor.execute.bind(executor),
    stream: (input, context, onText, options) => executor.stream(input, context, (text) => (count++, onText(text)), options),
  };
  const model = new StudentLanguageModel(counting, created.modelId);
  students.push(model);
  return { model, generated: () => count };
}

/** The generation stopped: nothing more is generated once the last piece in flight has landed. */
async function expectStopped(generated: () => number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = generated();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(generated()).toBe(after);
  // Far fewer than the 100,000 tokens asked for.
  expect(after).toBeLessThan(1000);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-ai-sdk-'));
  runDir = join(root, 'run');
  sentimentDir = join(runDir, 'training', 'job-1', 'output', 'onnx');
  await buildTinySeq2Seq(sentimentDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  await writeFile(join(runDir, RUN_FILES.promptSpec), JSON.stringify({ instruction, examples: [{ input: 'a great film', output: 'positive' }], language: 'en' }));
  await writeFile(
    join(runDir, RUN_FILES.trainedModel),
    JSON.stringify({ backend: 'local', reference: 'training/job-1/output/onnx', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }),
  );
  // A decoder-only student whose answer is a chain of words: the training prompt ends with ":".
  chainDir = join(root, 'chain');
  await buildTinyCausalLM(chainDir, { next: { ':': 'le', le: 'chat', chat: 'sat', sat: 'on', on: 'mat' } });
  // One that never says its end token: it talks until the token limit (or an abort).
  loopDir = join(root, 'loop');
  await buildTinyCausalLM(loopDir, { next: { ':': 'yes', yes: 'no', no: 'yes' } });
});

afterAll(async () => {
  await Promise.all(students.map((model) => model.dispose()));
  await rm(root, { recursive: true, force: true });
});

describe('createStudent with generateText', () => {
  it('answers from a run folder exactly as the executor does, in the training prompt of the run\'s task', async () => {
    const model = student({ model: runDir });
    expect(model).toMatchObject({ specificationVersion: 'v4', provider: 'prompt2model', modelId: runDir });
    const result = await generateText({ model, prompt: 'a great film' });
    expect(result.text).toBe('positive');
    expect(result.text).toBe(await greedy(sentimentDir, 'a great film', instruction));
    expect((await generateText({ model, prompt: 'an awful boring movie' })).text).toBe('negative');
    expect(result.warnings).toEqual([]);
    expect(result.finishReason).toBe('stop');
  });

  it('finds the run folder\'s task from the model folder inside it, and takes an instruction given', async () => {
    const inside = await generateText({ model: student({ model: sentimentDir }), prompt: 'a good movie' });
    expect(inside.text).toBe('positive');
    const given = await generateText({ model: student({ model: chainDir, instruction: 'Continue.' }), prompt: 'the cat' });
    expect(given.text).toBe(await greedy(chainDir, 'the cat', 'Continue.'));
    expect(given.text).toBe('le chat sat on mat');
  });

  it('reports usage from the tokenizer, the finish reason and the confidence', async () => {
    const model = student({ model: chainDir, instruction: '' });
    const result = await generateText({ model, prompt: 'the cat' });
    expect(result.usage.outputTokens).toBe(5);
    // `<task 0>\nExample:\nthe cat\nLabel:\n` in the tiny word-piece vocabulary.
    expect(result.usage.inputTokens).toBeGreaterThan(5);
    expect(result.usage.totalTokens).toBe(result.usage.inputTokens! + 5);
    expect(result.finishReason).toBe('stop');
    const confidence = result.providerMetadata?.prompt2model?.confidence as number;
    expect(confidence).toBeGreaterThan(0.9);
    expect(confidence).toBeLessThanOrEqual(1);

    const short = await generateText({ model, prompt: 'the cat', maxOutputTokens: 2 });
    expect(short.text).toBe('le chat');
    expect(short.finishReason).toBe('length');
    expect(short.usage.outputTokens).toBe(2);
  });

  it('samples with a temperature, the same answer for the same seed', async () => {
    const model = student({ model: chainDir, instruction: '' });
    const first = await generateText({ model, prompt: 'the cat', temperature: 1, seed: 7 });
    const second = await generateText({ model, prompt: 'the cat', temperature: 1, seed: 7 });
    expect(second.text).toBe(first.text);
  });

  it('answers concurrent calls, each its own', async () => {
    const model = student({ model: runDir });
    const inputs = ['a great film', 'an awful movie', 'a good one', 'so boring', 'a great film'];
    const answers = await Promise.all(inputs.map(async (prompt) => (await generateText({ model, prompt })).text));
    expect(answers).toEqual(['positive', 'negative', 'positive', 'negative', 'positive']);
  });

  it('ends the answer before a stop sequence', async () => {
    const model = student({ model: chainDir, instruction: '' });
    const result = await generateText({ model, prompt: 'the cat', stopSequences: ['sat'] });
    expect(result.text.trim()).toBe('le chat');
    expect(result.finishReason).toBe('stop');
  });

  it('warns about what the student cannot honour, and refuses what it cannot read', async () => {
    const model = student({ model: runDir });
    const result = await generateText({
      model,
      system: 'You are a pirate.',
      messages: [
        { role: 'user', content: 'a bad film' },
        { role: 'assistant', content: 'negative' },
        { role: 'user', content: 'a great film' },
      ],
      topK: 3,
      frequencyPenalty: 0.5,
    });
    expect(result.text).toBe('positive');
    expect(result.warnings?.map((warning) => (warning.type === 'unsupported' ? warning.feature : warning.type)).sort()).toEqual(
      ['conversation history', 'frequencyPenalty', 'system messages', 'topK'].sort(),
    );
    await expect(
      generateText({ model, messages: [{ role: 'user', content: [{ type: 'file', data: new Uint8Array([137, 80, 78, 71]), mediaType: 'image/png' }] }] }),
    ).rejects.toThrow(/reads text only/);
    await expect(generateText({ model, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] })).rejects.toThrow(/ends with an assistant message/);
  });

  it('stops when the call is aborted, before or during generation', async () => {
    const model = student({ model: loopDir, instruction: '' });
    await expect(generateText({ model, prompt: 'x', abortSignal: AbortSignal.abort() })).rejects.toThrow(/abort|cancel/i);
    // 100,000 tokens would take minutes: the abort ends it.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(generateText({ model, prompt: 'x', maxOutputTokens: 100_000, abortSignal: controller.signal })).rejects.toThrow(/abort|cancel/i);
    // The model still answers the next call.
    expect((await generateText({ model, prompt: 'x', maxOutputTokens: 3 })).text).toBe('yes no yes');
  });
});

describe('createStudent with streamText', () => {
  it('streams text that joins to the generateText answer, with usage and the finish reason', async () => {
    const model = student({ model: chainDir, instruction: '' });
    const whole = await generateText({ model, prompt: 'the cat' });
    const result = streamText({ model, prompt: 'the cat' });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    // Token by token, as the model generates them.
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(whole.text);
    expect(await result.text).toBe(whole.text);
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBe(5);
    expect((await result.providerMetadata)?.prompt2model?.confidence).toBeGreaterThan(0.9);
  });

  it('streams a run folder\'s answer and honours stop sequences', async () => {
    expect(await streamText({ model: student({ model: runDir }), prompt: 'a great film' }).text).toBe('positive');
    const stopped = streamText({ model: student({ model: chainDir, instruction: '' }), prompt: 'the cat', stopSequences: ['sat'] });
    expect((await stopped.text).trim()).toBe('le chat');
  });

  it('ends the stream, and the generation, when aborted', async () => {
    const { model, generated } = countingLoopStudent();
    const controller = new AbortController();
    let aborted = false;
    const result = streamText({ model, prompt: 'x', maxOutputTokens: 100_000, abortSignal: controller.signal, onAbort: () => void (aborted = true) });
    let text = '';
    for await (const delta of result.textStream) {
      text += delta;
      if (text.split(' ').length >= 3) controller.abort();
    }
    expect(aborted).toBe(true);
    expect(text.split(' ').length).toBeLessThan(10);
    // The executor stopped too (it checks the signal between tokens).
    await expectStopped(generated);
  });
});

describe('StudentLanguageModel.doStream', () => {
  it('stops generating when the reader cancels the stream', async () => {
    const { model, generated } = countingLoopStudent();
    const { stream } = await model.doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }], maxOutputTokens: 100_000 });
    const reader = stream.getReader();
    for (let part = await reader.read(); !part.done && part.value.type !== 'text-delta'; part = await reader.read());
    await reader.cancel();
    await expectStopped(generated);
  });
});

describe('createStudentProvider', () => {
  it('serves students by folder through the AI SDK\'s provider registry, one model per folder', async () => {
    const provider = createStudentProvider({ onnx: { maxNewTokens: 8 } });
    const registry = createProviderRegistry({ student: provider });
    try {
      const model = registry.languageModel(`student:${runDir}`);
      expect((await generateText({ model, prompt: 'a great film' })).text).toBe('positive');
      expect(registry.languageModel(`student:${runDir}`)).toBe(model);
      expect(provider(runDir)).toBe(model);
      expect(() => registry.embeddingModel(`student:${runDir}`)).toThrow(/language model/);
    } finally {
      await provider.dispose();
    }
  });
});

describe('createStudent with more executor table entries', () => {
  // A stand-in for the Python predict worker (it speaks the worker's protocol and echoes each prompt).
  const fakePredict = resolve(import.meta.dirname, '../../trainer/test/fixtures/fake-predict-worker.mjs');

  it('runs a PyTorch student through the python-worker entry, with the run\'s training prompt', async () => {
    const run = join(root, 'pytorch-run');
    await mkdir(join(run, 'model'), { recursive: true });
    await writeFile(join(run, 'model', 'config.json'), '{}');
    await writeFile(join(run, 'model', 'model.safetensors'), '');
    await writeFile(join(run, RUN_FILES.promptSpec), JSON.stringify({ instruction: 'Add one.', examples: [], language: 'en' }));
    await writeFile(join(run, RUN_FILES.trainedModel), JSON.stringify({ backend: 'local', reference: 'model', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }));
    // Without the entry: which runtime is missing, and where it comes from.
    expect(() => createStudent({ model: run })).toThrow(/python-worker/);
    const model = student({ model: run, executors: workerExecutors({ workerCommand: [process.execPath, fakePredict] }) });
    const result = await generateText({ model, prompt: '41' });
    expect(result.text).toBe(formatTrainingPrompt('Add one.', '41'));
    // It cannot stream: its whole answer is one piece.
    const chunks: string[] = [];
    for await (const delta of streamText({ model, prompt: '1' }).textStream) chunks.push(delta);
    expect(chunks).toEqual([formatTrainingPrompt('Add one.', '1')]);
  });
});

describe('createStudent errors', () => {
  it('says clearly when a folder holds no model, or is not there', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty, { recursive: true });
    expect(() => createStudent({ model: empty })).toThrow(ModelNotFoundError);
    expect(() => createStudent({ model: empty })).toThrow(/No model in/);
    expect(() => createStudent({ model: join(root, 'missing') })).toThrow(/is not a folder/);
  });

  it('asks for the instruction when the model folder has no run folder around it', () => {
    let error: unknown;
    try {
      createStudent({ model: chainDir });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as InvalidArgumentError).hint).toMatch(/`instruction`/);
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { AbortError, canStream, createStageContext, ValidationError, formatTrainingPrompt, Prompt2ModelError, type Executor, type ProgressEvent, type StageContext, type TrainedModel } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { buildTinyCausalLM, buildTinyEncoder, buildTinySeq2Seq, lastUserText, startOpenAICompatibleServer, type OpenAICompatibleServer } from '@prompt2model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTeacherStudent } from '../src/compare.js';
import { executorForModel, locateModel, locateTrainedModel } from '@prompt2model/core/internal';
import { createEvaluator, evaluatorExecutors, trainingPrompt } from '../src/evaluator.js';
import { LanguageModelExecutor } from '../src/executors/language-model-executor.js';
import { OnnxExecutor } from '../src/executors/onnx-executor.js';
import { modelLocation } from '../src/transformers-runtime.js';

let root: string;
let seq2seqDir: string;
let causalDir: string;
let server: OpenAICompatibleServer;

/** The "teacher" behind the loopback server: answers a fixed translation table, else "unknown". */
const teacherAnswers: Record<string, string> = { 'hello world': 'bonjour', 'cat on the mat': 'chat', 'dog': 'chien' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-executors-'));
  seq2seqDir = (await buildTinySeq2Seq(join(root, 'seq2seq'), { answers: { hello: 'bonjour', cat: 'chat', dog: 'chien' } })).dir;
  causalDir = (await buildTinyCausalLM(join(root, 'causal'), { next: { translate: 'bonjour', bonjour: 'monde' } })).dir;
  server = await startOpenAICompatibleServer({
    respond: (request) => teacherAnswers[lastUserText(request).trim()] ?? 'unknown',
    faultSequence: ['rate-limit', 'server-error'],
    retryAfterSeconds: 0,
  });
});

afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function context(name: string, options: { signal?: AbortSignal; cache?: boolean } = {}): Promise<{ context: StageContext; events: ProgressEvent[] }> {
  const context = await createStageContext({
    outDir: join(root, name),
    cacheDir: options.cache === false ? false : undefined,
    scheduler: { initialBackoffMs: 1, maxBackoffMs: 5 },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const events: ProgressEvent[] = [];
  context.events.on((event) => events.push(event));
  return { context, events };
}

describe('OnnxExecutor', () => {
  it('runs a tiny seq2seq model in batches with progress', async () => {
    const executor = new OnnxExecutor({ model: seq2seqDir, batchSize: 2, maxNewTokens: 8 });
    const { context: ctx, events } = await context('onnx-seq2seq');
    const inputs = ['hello world', 'cat on the mat', 'dog', 'the man', 'Hello again'];
    const predictions = await executor.execute(inputs, ctx);
    expect(predictions.map((prediction) => prediction.output)).toEqual(['bonjour', 'chat', 'chien', 'the', 'bonjour']);
    expect(predictions.every((prediction) => prediction.latencyMs >= 0)).toBe(true);
    const progress = events.filter((event) => event.type === 'progress');
    expect(progress.map((event) => (event.type === 'progress' ? event.done : -1))).toEqual([0, 2, 4, 5]);
    expect(executor.lastRun).toMatchObject({ requests: 5, costUsd: 0 });
    await executor.dispose();
  });

  it('keeps a batch within maxBatchTokens (rows × its longest prompt): long prompts run in smaller batches, with the same answers', async () => {
    const inputs = ['dog', 'cat', 'hello world and the cat on the mat and the dog', 'dog', 'cat'];
    const expected = (await new OnnxExecutor({ model: seq2seqDir, batchSize: 8, maxNewTokens: 8 }).execute(inputs, (await context('onnx-budget-all')).context)).map((row) => row.output);
    const executor = new OnnxExecutor({ model: seq2seqDir, batchSize: 8, maxNewTokens: 8, maxBatchTokens: 12 });
    const { context: ctx, events } = await context('onnx-budget');
    expect((await executor.execute(inputs, ctx)).map((row) => row.output)).toEqual(expected);
    // 'dog' and 'cat' are 2 tokens with the end token: they pair up; the long one (11 tokens) runs alone.
    expect(events.flatMap((event) => (event.type === 'progress' ? [event.done] : []))).toEqual([0, 2, 3, 5]);
    await executor.dispose();
  });

  it('detects a decoder-only model and returns only the completion', async () => {
    const executor = new OnnxExecutor({ model: causalDir, formatInput: (input) => `please ${input}` });
    const { context: ctx } = await context('onnx-causal');
    const predictions = await executor.execute(['translate', 'the dog'], ctx);
    expect(predictions.map((prediction) => prediction.output)).toEqual(['bonjour monde', '']);
    await executor.dispose();
  });

  it('cuts each answer of a decoder-only batch at its first end token (the model keeps talking after it)', async () => {
    // After <|endoftext|> this model says "awful" forever: a row that ends early keeps generating
    // while the batch's longest answer finishes, and those tokens must not reach the prediction.
    const chattyDir = (await buildTinyCausalLM(join(root, 'chatty'), { next: { a: 'b', b: 'c', c: 'd', d: 'e' }, words: ['b', 'c', 'd', 'e'], afterEnd: 'awful' })).dir;
    const inputs = ['a', 'd', 'c', 'the', 'b', 'a', 'dog', 'c', 'b', 'd'];
    const { context: ctx } = await context('onnx-chatty');
    const one = new OnnxExecutor({ model: chattyDir, batchSize: 1, maxNewTokens: 8 });
    const single = (await one.execute(inputs, ctx)).map((prediction) => prediction.output);
    expect(single).toEqual(['b c d e', 'e', 'd e', '', 'c d e', 'b c d e', '', 'd e', 'c d e', 'e']);
    const eight = new OnnxExecutor({ model: chattyDir, batchSize: 8, maxNewTokens: 8 });
    expect((await eight.execute(inputs, ctx)).map((prediction) => prediction.output)).toEqual(single);
    await one.dispose();
    await eight.dispose();
  });

  it('threads the key/value cache through the steps, and keeps it right when finished rows leave the batch', async () => {
    // The cached model never repeats a token it has seen: a → b → c → a ends after "b c" only if
    // every step sees its own row's whole cache (prompt included, padding masked out).
    const cachedDir = (await buildTinyCausalLM(join(root, 'cached'), { next: { a: 'b', b: 'c', c: 'a', d: 'e', e: 'd' }, kvCache: true })).dir;
    const inputs = ['a', 'b c', 'c', 'the', 'a b', 'd', 'the the the c', 'e d'];
    const expected = ['b c', 'a', 'a b', '', 'c', 'e', 'a b', ''];
    const { context: ctx } = await context('onnx-kv');
    const one = new OnnxExecutor({ model: cachedDir, batchSize: 1, maxNewTokens: 8 });
    const eight = new OnnxExecutor({ model: cachedDir, batchSize: 8, maxNewTokens: 8 });
    expect((await one.execute(inputs, ctx)).map((prediction) => prediction.output)).toEqual(expected);
    // Rows end after 0 to 2 tokens: the batch shrinks three times on the way.
    const batched = await eight.execute(inputs, ctx);
    expect(batched.map((prediction) => prediction.output)).toEqual(expected);
    expect(batched.map((prediction) => prediction.finishReason)).toEqual(expected.map(() => 'stop'));
    const pieces: string[] = [];
    expect((await eight.stream('c', ctx, (text) => pieces.push(text))).output).toBe('a b');
    expect(pieces).toEqual(['a', ' b']);
    await one.dispose();
    await eight.dispose();
  });

  it('stops between batches when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const { context: ctx } = await context('onnx-abort', { signal: controller.signal });
    const executor = new OnnxExecutor({ model: seq2seqDir });
    await expect(executor.execute(['hello'], ctx)).rejects.toSatisfy((error) => AbortError.isInstance(error));
    await executor.dispose();
  });

  it('hands transformers.js absolute folder paths (a bare relative name would be read as a Hub id)', () => {
    expect(modelLocation(relative(process.cwd(), seq2seqDir))).toBe(seq2seqDir);
    expect(modelLocation('Xenova/xlm-roberta-base')).toBe('Xenova/xlm-roberta-base');
  });

  it('runs the weights variant asked for, and names the file a variant lacks', async () => {
    const { context: ctx } = await context('onnx-dtype');
    const missing = await new OnnxExecutor({ model: seq2seqDir, dtype: 'q8' }).execute(['hello'], ctx).catch((caught: unknown) => caught);
    expect(Prompt2ModelError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toContain('onnx/encoder_model_quantized.onnx or onnx/decoder_model_merged_quantized.onnx (q8 weights');
    const unknown = await new OnnxExecutor({ model: seq2seqDir, dtype: 'q3' }).execute(['hello'], ctx).catch((caught: unknown) => caught);
    expect((unknown as Error).message).toContain('Unknown ONNX weights variant "q3"');
    const withQ8 = (await buildTinySeq2Seq(join(root, 'seq2seq-q8'), { answers: { hello: 'bonjour' }, quantizedCopy: true })).dir;
    expect((await new OnnxExecutor({ model: withQ8, dtype: 'q8' }).execute(['hello'], ctx)).map((row) => row.output)).toEqual(['bonjour']);
  });

  it('explains a missing model folder', async () => {
    const { context: ctx } = await context('onnx-missing');
    const error = await new OnnxExecutor({ model: join(root, 'nope') }).execute(['x'], ctx).catch((caught: unknown) => caught);
    expect((error as { hint?: string }).hint).toMatch(/Remote loading is off/);
  });
});

describe('OnnxExecutor per-call generation options, confidence and streaming', () => {
  let chainDir: string;
  let chainVocab: number;
  let chain: OnnxExecutor;
  beforeAll(async () => {
    // a → b → c → d → e → end: each next token has logit 10, every other token 0.
    const info = await buildTinyCausalLM(join(root, 'chain'), { next: { a: 'b', b: 'c', c: 'd', d: 'e' } });
    chainDir = info.dir;
    chainVocab = info.vocab.size;
    chain = new OnnxExecutor({ model: chainDir, batchSize: 4, maxNewTokens: 8, threads: 1 });
  });
  afterAll(async () => {
    await chain.dispose();
  });
  /** The model's probability of its written-in next token: e^10 / (e^10 + V - 1). */
  const topProbability = (vocab: number) => Math.exp(10) / (Math.exp(10) + vocab - 1);

  it('reports confidence (exp of the mean token log-probability), token counts and the finish reason', async () => {
    const { context: ctx } = await context('onnx-confidence');
    const [full, empty] = await chain.execute(['a', 'the'], ctx);
    expect(full).toMatchObject({ output: 'b c d e', promptTokens: 1, outputTokens: 4, finishReason: 'stop' });
    expect(full!.confidence).toBeCloseTo(topProbability(chainVocab), 6);
    expect(empty).toMatchObject({ output: '', outputTokens: 0, finishReason: 'stop' });
    // The end token counts: an empty answer is as sure as the model was to stop at once.
    expect(empty!.confidence).toBeCloseTo(topProbability(chainVocab), 6);
    expect(chain.lastRun).toMatchObject({ requests: 2, inputTokens: 2, outputTokens: 4 });

    const seq2seq = new OnnxExecutor({ model: seq2seqDir });
    const [answer] = await seq2seq.execute(['hello world'], ctx);
    // "hello world </s>": three prompt tokens; one answer token, then the end token.
    expect(answer).toMatchObject({ output: 'bonjour', promptTokens: 3, outputTokens: 1, finishReason: 'stop' });
    expect(answer!.confidence).toBeGreaterThan(0.9);
    expect(answer!.confidence).toBeLessThanOrEqual(1);
    await seq2seq.dispose();
  });

  it('stops at the token limit of the call (finish reason length) and before a stop string', async () => {
    const { context: ctx } = await context('onnx-limits');
    const [limited] = await chain.execute(['a'], ctx, { maxNewTokens: 2 });
    expect(limited).toMatchObject({ output: 'b c', outputTokens: 2, finishReason: 'length' });
    const [stopped, unaffected] = await chain.execute(['a', 'd'], ctx, { stop: ['x', 'd'] });
    expect(stopped).toMatchObject({ output: 'b c', outputTokens: 3, finishReason: 'stop' });
    expect(unaffected).toMatchObject({ output: 'e', outputTokens: 1, finishReason: 'stop' });
    await expect(chain.execute(['a'], ctx, { temperature: -1, topP: 0 })).rejects.toSatisfy(
      (error) => ValidationError.isInstance(error) && /temperature/.test((error as Error).message) && /topP/.test((error as Error).message),
    );
  });

  it('samples reproducibly with a seed, the same in any batch position, and greedily under a tiny topP', async () => {
    const { context: ctx } = await context('onnx-sampling');
    // At temperature 5 the written-in token has about 13% of the mass: answers vary.
    const hot = { temperature: 5, maxNewTokens: 6 };
    const first = (await chain.execute(['a', 'a', 'a'], ctx, { ...hot, seed: 42 })).map((prediction) => prediction.output);
    expect(new Set(first).size).toBe(1);
    const alone = (await chain.execute(['a'], ctx, { ...hot, seed: 42 }))[0]!.output;
    expect(alone).toBe(first[0]);
    const seeds = await Promise.all([1, 2, 3, 4, 5, 6].map(async (seed) => (await chain.execute(['a'], ctx, { ...hot, seed }))[0]!));
    expect(new Set(seeds.map((prediction) => prediction.output)).size).toBeGreaterThan(1);
    // Confidence stays the model's own probability (temperature 1), below the greedy answer's.
    for (const prediction of seeds) expect(prediction.confidence).toBeLessThanOrEqual(1);
    expect(Math.min(...seeds.map((prediction) => prediction.confidence!))).toBeLessThan(topProbability(chainVocab));
    // Nucleus sampling keeping 5% of the mass keeps only the top token: the greedy answer.
    const nucleus = await chain.execute(['a', 'c'], ctx, { temperature: 5, topP: 0.05, seed: 7 });
    expect(nucleus.map((prediction) => prediction.output)).toEqual(['b c d e', 'd e']);
  });

  it('streams an answer whose pieces join to the final output, stop strings held back', async () => {
    const { context: ctx } = await context('onnx-stream');
    expect(canStream(chain)).toBe(true);
    const pieces: string[] = [];
    const prediction = await chain.stream('a', ctx, (text) => pieces.push(text));
    expect(prediction).toMatchObject({ output: 'b c d e', outputTokens: 4, finishReason: 'stop' });
    expect(pieces.length).toBe(4);
    expect(pieces.join('')).toBe(prediction.output);
    const stopped: string[] = [];
    const cut = await chain.stream('a', ctx, (text) => stopped.push(text), { stop: [' d'] });
    expect(cut.output).toBe('b c');
    expect(stopped.join('')).toBe('b c');
    // The seq2seq model streams too.
    const seq2seq = new OnnxExecutor({ model: seq2seqDir });
    const seq2seqPieces: string[] = [];
    expect((await seq2seq.stream('cat', ctx, (text) => seq2seqPieces.push(text))).output).toBe('chat');
    expect(seq2seqPieces).toEqual(['chat']);
    await seq2seq.dispose();
  });
});

describe('LanguageModelExecutor over an OpenAI-compatible endpoint', () => {
  it('goes through the scheduler (retrying injected faults), the cache and the cost ledger', async () => {
    server.reset();
    const model = createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('gpt-4o-mini');
    const executor = new LanguageModelExecutor({ model, instruction: 'Translate to French.' });
    const { context: ctx, events } = await context('lm');
    const inputs = ['hello world', 'dog', 'something else'];
    const predictions = await executor.execute(inputs, ctx);
    expect(predictions.map((prediction) => prediction.output)).toEqual(['bonjour', 'chien', 'unknown']);
    expect(server.stats.faultsInjected).toBe(2);
    expect(server.stats.completed).toBe(3);
    expect(server.requests[0]!.messages[0]).toEqual({ role: 'system', content: 'Translate to French.' });
    expect(executor.lastRun.requests).toBe(3);
    expect(executor.lastRun.cachedRequests).toBe(0);
    expect(executor.lastRun.costUsd).toBeGreaterThan(0);
    expect(ctx.ledger.totalUsd).toBeCloseTo(executor.lastRun.costUsd, 12);
    expect(events.some((event) => event.type === 'progress' && event.done === 3 && event.total === 3)).toBe(true);

    // Same inputs again: answered from the cache, no new requests, same nominal cost.
    const again = await executor.execute(inputs, ctx);
    expect(again.map((prediction) => prediction.output)).toEqual(['bonjour', 'chien', 'unknown']);
    expect(server.stats.completed).toBe(3);
    expect(executor.lastRun.cachedRequests).toBe(3);
    expect(executor.modelId).toBe('gpt-4o-mini');
  });

  it('passes a call\'s token limit, sampling settings, seed and stop strings to the model', async () => {
    server.reset();
    const model = createOpenAI({ baseURL: server.url, apiKey: 'test-key' })('gpt-4o-mini');
    const executor = new LanguageModelExecutor({ model, maxTokens: 99 });
    const { context: ctx } = await context('lm-options', { cache: false });
    const [prediction] = await executor.execute(['dog'], ctx, { maxNewTokens: 7, temperature: 0.5, topP: 0.9, seed: 3, stop: ['\n'] });
    expect(prediction).toMatchObject({ output: 'chien', finishReason: 'stop' });
    expect(prediction!.promptTokens).toBeGreaterThan(0);
    expect(prediction!.outputTokens).toBeGreaterThan(0);
    const sent = server.requests.at(-1)! as unknown as Record<string, unknown>;
    expect(sent).toMatchObject({ max_tokens: 7, temperature: 0.5, top_p: 0.9, seed: 3, stop: ['\n'] });
    await executor.execute(['dog'], ctx);
    expect(server.requests.at(-1)).toMatchObject({ max_tokens: 99, temperature: 0 });
  });

  it('uses the run teacher when no model is given, and says so when there is none', async () => {
    const { context: ctx } = await context('lm-no-teacher');
    await expect(new LanguageModelExecutor().execute(['x'], ctx)).rejects.toThrow(/no teacher/);
    const teacherContext = await createStageContext({
      outDir: join(root, 'lm-teacher'),
      teacher: createOpenAI({ baseURL: server.url, apiKey: 'k' })('gpt-4o-mini'),
      scheduler: { initialBackoffMs: 1 },
    });
    const executor = new LanguageModelExecutor();
    expect((await executor.execute(['dog'], teacherContext))[0]!.output).toBe('chien');
    expect(executor.modelId).toBe('gpt-4o-mini');
  });
});

describe('createEvaluator', () => {
  const trained = (reference: string, kind: TrainedModel['kind']): TrainedModel => ({
    backend: 'test',
    reference,
    kind,
    baseModel: 'tiny',
    method: 'full',
    artifacts: {},
    metrics: {},
  });

  it('evaluates a local ONNX model on a JSON Lines test set with the task type metrics', async () => {
    const testPath = join(root, 'test.jsonl');
    const rows = [
      { input: 'hello world', output: 'bonjour' },
      { input: 'cat on the mat', output: 'chat' },
      { input: 'dog', output: 'chien' },
      { input: 'the man', output: 'le' },
    ];
    await writeFile(testPath, rows.map((row) => JSON.stringify(row)).join('\n'));
    const evaluator = createEvaluator({ onnx: { formatInput: (input) => input } });
    const { context: ctx } = await context('evaluate');
    const report = await evaluator.evaluate(
      { model: trained(seq2seqDir, 'local-folder'), testPath, spec: { instruction: 'Translate.', examples: [], language: 'en', taskType: 'classification' } },
      ctx,
    );
    expect(report.metrics).toEqual({ exact_match: 0.75 });
    expect(report.count).toBe(4);
    expect(report.taskType).toBe('classification');
    expect(report.perExample?.[3]).toEqual({ input: 'the man', prediction: 'the', reference: 'le', confidence: expect.any(Number) });
    expect(report.costPer1000Usd).toBe(0);
  });

  it('runs managed models through languageModelFor, with the metrics asked for', async () => {
    const testPath = join(root, 'test-managed.jsonl');
    await writeFile(testPath, `${JSON.stringify({ input: 'dog', output: 'chien' })}\n${JSON.stringify({ input: 'hello world', output: 'bonjour!' })}\n`);
    const evaluator = createEvaluator({
      metrics: 'em,chrf++',
      languageModelFor: (id) => createOpenAI({ baseURL: server.url, apiKey: 'k' })(id),
      perExample: false,
    });
    const { context: ctx } = await context('evaluate-managed', { cache: false });
    const report = await evaluator.evaluate(
      { model: trained('ft:gpt-4o-mini:org::abc', 'managed-model'), testPath, spec: { instruction: 'Translate.', examples: [], language: 'en' } },
      ctx,
    );
    expect(report.metrics.exact_match).toBe(0.5);
    expect(report.metrics['chrf++']).toBeGreaterThan(50);
    expect(report.model).toBe('ft:gpt-4o-mini:org::abc');
    expect(report.costPer1000Usd).toBeGreaterThan(0);
    expect(report.perExample).toBeUndefined();
    await expect(
      createEvaluator().evaluate({ model: trained('ft:x', 'managed-model'), testPath, spec: { instruction: 'x', examples: [], language: 'en' } }, ctx),
    ).rejects.toThrow(/no `language-model` entry/);
  });
});

describe('createEvaluator with local model folders', () => {
  const spec = { instruction: 'Translate.', examples: [], language: 'en', taskType: 'classification' as const };
  const local = (reference: string, artifacts: TrainedModel['artifacts'] = {}): TrainedModel => ({
    backend: 'local',
    reference,
    kind: 'local-folder',
    baseModel: 'tiny',
    method: 'lora',
    artifacts,
    metrics: {},
  });
  let pytorchDir: string;
  let testPath: string;
  beforeAll(async () => {
    // What the local trainer saves: PyTorch weights, no ONNX export.
    pytorchDir = join(root, 'pytorch-merged');
    await mkdir(pytorchDir, { recursive: true });
    await writeFile(join(pytorchDir, 'config.json'), JSON.stringify({ is_encoder_decoder: true }));
    await writeFile(join(pytorchDir, 'model.safetensors'), '');
    testPath = join(root, 'test-local.jsonl');
    await writeFile(testPath, `${JSON.stringify({ input: 'dog', output: 'chien' })}\n${JSON.stringify({ input: 'cat', output: 'chat' })}\n`);
  });

  it('formats prompts with core\'s formatTrainingPrompt', () => {
    expect(trainingPrompt).toBe(formatTrainingPrompt);
  });

  it('finds the formats of a model folder: an onnx/ folder, a .onnx file, a PyTorch folder, artifacts.onnx', async () => {
    const single = join(root, 'single-onnx');
    await mkdir(single, { recursive: true });
    await writeFile(join(single, 'model.onnx'), '');
    expect(locateModel(seq2seqDir).formats).toMatchObject({ 'onnx-fp32': seq2seqDir });
    expect(locateModel(single).formats).toEqual({ 'onnx-fp32': single });
    expect(locateModel(pytorchDir).formats).toEqual({ pytorch: pytorchDir });
    expect(locateTrainedModel(local(pytorchDir, { onnx: seq2seqDir })).formats).toMatchObject({ 'onnx-fp32': seq2seqDir });
    expect(locateTrainedModel(local(join(root, 'not-there'))).formats).toEqual({});
  });

  it('refuses a PyTorch folder without the python-worker entry, saying which package runs it', async () => {
    const { context: ctx } = await context('evaluate-pytorch');
    const error = await createEvaluator().evaluate({ model: local(pytorchDir), testPath, spec }, ctx).catch((caught: unknown) => caught);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no `python-worker` entry/);
    expect((error as { hint?: string }).hint).toMatch(/WorkerExecutor/);
    expect((error as { hint?: string }).hint).toMatch(/@prompt2model\/trainer/);
    // The same folder with its export named in artifacts.onnx runs through ONNX.
    expect(executorForModel(local(pytorchDir, { onnx: seq2seqDir }), spec, evaluatorExecutors())).toBeInstanceOf(OnnxExecutor);
  });

  it('runs a PyTorch folder with the python-worker entry given, and an ONNX export with its own entry', async () => {
    const seen: string[][] = [];
    const echo = (model: TrainedModel, given: Pick<typeof spec, 'instruction'>): Executor => ({
      specificationVersion: 'v1',
      name: 'echo',
      modelId: `echo:${model.reference}`,
      execute: async (inputs) => {
        seen.push(inputs);
        return inputs.map((input) => ({ output: input === 'dog' ? 'chien' : given.instruction, latencyMs: 2 }));
      },
    });
    const evaluator = createEvaluator({
      executors: { 'python-worker': ({ model, spec: given }) => echo(model, given) },
      onnx: { formatInput: (input) => input },
    });
    const { context: ctx } = await context('evaluate-executor-for');
    const viaHook = await evaluator.evaluate({ model: local(pytorchDir), testPath, spec }, ctx);
    expect(seen).toEqual([['dog', 'cat']]);
    expect(viaHook.model).toBe(`echo:${pytorchDir}`);
    expect(viaHook.metrics).toEqual({ exact_match: 0.5 });
    expect(viaHook.latencyMsPerExample).toBe(2);
    const viaDefault = await evaluator.evaluate({ model: local(seq2seqDir), testPath, spec }, ctx);
    expect(viaDefault.model).toBe(seq2seqDir);
    expect(viaDefault.perExample?.map((row) => row.prediction)).toEqual(['chien', 'chat']);
    expect(seen).toHaveLength(1);
  });
});

describe('createEvaluator metric choice for free text', () => {
  it('skips automatically chosen BERTScore with a warning when its encoder is not here, and computes it when it is', async () => {
    const testPath = join(root, 'test-generation.jsonl');
    await writeFile(testPath, `${JSON.stringify({ input: 'hello world', output: 'bonjour' })}\n${JSON.stringify({ input: 'dog', output: 'le chien' })}\n`);
    const request = {
      model: { backend: 'test', reference: seq2seqDir, kind: 'local-folder' as const, baseModel: 'tiny', method: 'full' as const, artifacts: {}, metrics: {} },
      testPath,
      spec: { instruction: 'Translate.', examples: [], language: 'en', taskType: 'generation' as const },
    };
    const { context: ctx, events } = await context('evaluate-generation');
    const report = await createEvaluator({ onnx: { formatInput: (input) => input } }).evaluate(request, ctx);
    expect(Object.keys(report.metrics)).toEqual(['chrf++']);
    expect(events.some((event) => event.type === 'log' && event.level === 'warn' && event.message.startsWith('BERTScore skipped'))).toBe(true);

    const encoderDir = (await buildTinyEncoder(join(root, 'bertscore-encoder'))).dir;
    const withEncoder = await createEvaluator({ onnx: { formatInput: (input) => input }, metricOptions: { bertScore: { model: encoderDir } } }).evaluate(request, ctx);
    expect(Object.keys(withEncoder.metrics)).toEqual(['chrf++', 'bertscore_precision', 'bertscore_recall', 'bertscore_f1']);
    expect(withEncoder.metrics.bertscore_f1).toBeGreaterThan(0);

    // Asked for explicitly, a missing encoder is an error.
    await expect(createEvaluator({ metrics: ['bertscore'], onnx: { formatInput: (input) => input } }).evaluate(request, ctx)).rejects.toThrow(/Could not load the ONNX model/);
  });
});

describe('compareTeacherStudent', () => {
  it('puts metrics, latency and cost of teacher and student side by side', async () => {
    const examples = [
      { input: 'hello world', output: 'bonjour' },
      { input: 'cat on the mat', output: 'chat' },
      { input: 'dog', output: 'chien' },
      { input: 'the man', output: 'le' },
    ];
    const teacher = new LanguageModelExecutor({ model: createOpenAI({ baseURL: server.url, apiKey: 'k' })('gpt-4o-mini') });
    const student = new OnnxExecutor({ model: seq2seqDir });
    const { context: ctx } = await context('compare', { cache: false });
    const comparison = await compareTeacherStudent({ teacher, student, examples, metrics: ['exact_match', 'chrf++'] }, ctx);
    expect(comparison.teacher.metrics.exact_match).toBe(0.75);
    expect(comparison.student.metrics.exact_match).toBe(0.75);
    expect(comparison.teacher.costPer1000Usd).toBeGreaterThan(0);
    expect(comparison.student.costPer1000Usd).toBe(0);
    expect(comparison.markdown).toContain('| | teacher (gpt-4o-mini) | student (');
    expect(comparison.markdown).toMatch(/\| exact_match \| 0\.7500 \| 0\.7500 \| \+0\.0000 \|/);
    expect(comparison.markdown).toMatch(/\| cost per 1,000 requests \(USD\) \| \d+\.\d{4} \| 0\.0000 \|/);
    expect(JSON.parse(JSON.stringify(comparison.student)).perExample).toHaveLength(4);
    await student.dispose();
  });
});

// What the AI SDK layer costs per call: the same tiny ONNX student answered N times through the
// executor directly (`execute`, and `stream` when it has one), through `generateText` and through
// `streamText` of the real `ai` package, interleaved in one process so load on the machine hits all
// alike; and, to tell `ai`'s own cost from this package's, `generateText`/`streamText` over `ai`'s
// MockLanguageModelV4 answering at once. Prints ms per call and the ratios against the raw executor.
// Usage: node --import tsx packages/ai-sdk/bench/overhead.ts [calls=200] [model folder]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, streamText } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { canStream, createStageContext, RUN_FILES } from '@prompt2model/core/internal';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { createStudent } from '../src/index.js';

const calls = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(tmpdir(), 'p2m-ai-sdk-bench-'));
let model = process.argv[3];
const instruction = 'Classify the sentiment of the review.';
if (!model) {
  model = join(dir, 'run');
  await buildTinySeq2Seq(join(model, 'student'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
  await writeFile(join(model, RUN_FILES.promptSpec), JSON.stringify({ instruction, examples: [], language: 'en' }));
  await writeFile(join(model, RUN_FILES.trainedModel), JSON.stringify({ backend: 'local', reference: 'student', kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} }));
}
const student = createStudent({ model, onnx: { maxNewTokens: 16 } });
const executor = student.executor;
const context = await createStageContext({ outDir: join(dir, 'context'), cacheDir: false });
const tokens = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };
const inputs = ['a great film', 'an awful boring movie', 'a good movie and it was not bad', 'the dog sat on the mat'];

// `ai` alone: a model that answers "positive" at once, whole or as one streamed piece.
const instant = new MockLanguageModelV4({
  doGenerate: async () => ({ content: [{ type: 'text', text: 'positive' }], finishReason: { unified: 'stop', raw: 'stop' }, usage: tokens, warnings: [] }),
  doStream: async () => ({
    stream: new ReadableStream({
      start(controller) {
        const parts: LanguageModelV4StreamPart[] = [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: 'positive' },
          { type: 'text-end', id: 't' },
          { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: tokens },
        ];
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    }),
  }),
});
const collect = async (textStream: AsyncIterable<string>) => {
  let text = '';
  for await (const delta of textStream) text += delta;
  return text;
};

const ways: Record<string, (input: string) => Promise<string>> = {
  'executor.execute': async (input) => (await executor.execute([input], context))[0]!.output,
  ...(canStream(executor) ? { 'executor.stream': async (input: string) => (await executor.stream!(input, context, () => undefined)).output } : {}),
  generateText: async (input) => (await generateText({ model: student, prompt: input, maxRetries: 0 })).text,
  streamText: async (input) => collect(streamText({ model: student, prompt: input, maxRetries: 0 }).textStream),
  'ai mock generate': async (input) => (await generateText({ model: instant, prompt: input, maxRetries: 0 })).text,
  'ai mock stream': async (input) => collect(streamText({ model: instant, prompt: input, maxRetries: 0 }).textStream),
};
const totals = Object.fromEntries(Object.keys(ways).map((name) => [name, 0]));
// Warm-up: load the model, compile the paths.
for (const way of Object.values(ways)) for (const input of inputs) await way(input);
for (let call = 0; call < calls; call++) {
  const input = inputs[call % inputs.length]!;
  for (const [name, way] of Object.entries(ways)) {
    const started = performance.now();
    await way(input);
    totals[name]! += performance.now() - started;
  }
}
const base = totals['executor.execute']! / calls;
console.log(`${calls} calls each, model ${process.argv[3] ?? 'tiny seq2seq (built here)'}`);
for (const [name, total] of Object.entries(totals)) {
  const perCall = total / calls;
  console.log(`${name.padEnd(18)} ${perCall.toFixed(3).padStart(8)} ms/call  ×${(perCall / base).toFixed(3)} of executor.execute`);
}
await student.dispose();
await rm(dir, { recursive: true, force: true });

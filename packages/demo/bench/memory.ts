// Resident memory of the served demo under long inputs: the demo server in this process with the
// testing package's tiny ONNX student, `requests` sequential /api/predict calls of ~4,000-character
// inputs (the default input limit), and the process's RSS before, after and at its peak.
// node --import tsx packages/demo/bench/memory.ts [requests] [chars] [onnx model folder]
// The third argument serves a real ONNX export (prompt2model export) instead of the tiny student.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStageContext, type TrainedModel } from '@prompt2model/core/internal';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { demoExecutorFor, startDemoServer } from '../src/internal.js';

const requests = Number(process.argv[2] ?? 1000);
const chars = Number(process.argv[3] ?? 3990);
const limitMb = 400;
const root = await mkdtemp(join(tmpdir(), 'p2m-demo-memory-'));
const spec = { instruction: 'Classify the sentiment of the review.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' };
const modelDir = process.argv[4] ?? join(root, 'student');
if (!process.argv[4]) await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
const model: TrainedModel = { backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} };
const executor = demoExecutorFor(model, spec);
const context = await createStageContext({ outDir: join(root, 'run'), cacheDir: false });
const server = await startDemoServer({ executor, context, port: 0, info: { title: 'bench', instruction: spec.instruction, examples: [], model: { id: 'student', runtime: executor.name } } });
const post = (input: string) => fetch(new URL('/api/predict', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input }) });

const mb = (bytes: number) => bytes / 1024 / 1024;
const before = process.memoryUsage().rss;
let peak = before;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const words = ['a', 'great', 'film', 'awful', 'boring', 'plot', 'loved', 'it', 'the', 'actors'];
const longInput = (seed: number) => {
  let text = '';
  for (let index = seed; text.length < chars; index++) text += `${words[index % words.length]} `;
  return text.slice(0, chars);
};
const started = performance.now();
const statuses: Record<number, number> = {};
for (let index = 0; index < requests; index++) {
  const response = await post(longInput(index));
  await response.arrayBuffer();
  statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  peak = Math.max(peak, process.memoryUsage().rss);
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sample);
const after = process.memoryUsage().rss;
const { heapUsed, external, arrayBuffers } = process.memoryUsage();
// With --expose-gc: what stays after a full collection (a leak stays; lazily collected garbage goes).
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const afterGc = gc ? process.memoryUsage() : undefined;
await server.close();
await rm(root, { recursive: true, force: true });

console.log(`model: ${process.argv[4] ?? 'the testing package\'s tiny seq2seq ONNX student (model_max_length 512)'}`);
console.log(`${requests} sequential /api/predict of ${chars}-character inputs in ${seconds.toFixed(1)} s (${Object.entries(statuses).map(([status, count]) => `${count}× ${status}`).join(', ')})`);
console.log(`RSS (model not yet loaded) before ${mb(before).toFixed(0)} MB, after ${mb(after).toFixed(0)} MB, peak ${mb(peak).toFixed(0)} MB`);
console.log(`at the end: JS heap ${mb(heapUsed).toFixed(0)} MB, external ${mb(external).toFixed(0)} MB (array buffers ${mb(arrayBuffers).toFixed(0)} MB)`);
if (afterGc) console.log(`after a full GC: RSS ${mb(afterGc.rss).toFixed(0)} MB, JS heap ${mb(afterGc.heapUsed).toFixed(0)} MB`);
console.log(peak < limitMb * 1024 * 1024 ? `peak stays under ${limitMb} MB: yes` : `peak stays under ${limitMb} MB: NO`);
if (peak >= limitMb * 1024 * 1024) process.exitCode = 1;

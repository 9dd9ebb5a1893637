// Served-demo figures: latency of /api/predict over HTTP with a tiny ONNX student (server overhead
// plus the ONNX call), the queue's behaviour under a burst, and the size of a static export.
// node --import tsx packages/demo/bench/serve.ts [requests]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStageContext, type TrainedModel } from '@prompt2model/core';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { demoExecutorFor, exportStaticDemo, startDemoServer } from '../src/internal.js';

const requests = Number(process.argv[2] ?? 200);
const root = await mkdtemp(join(tmpdir(), 'p2m-demo-bench-'));
const spec = { instruction: 'Classify the sentiment of the review.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' };
const modelDir = join(root, 'student');
await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
const model: TrainedModel = { backend: 'local', reference: modelDir, kind: 'local-folder', baseModel: 't5-small', method: 'full', artifacts: {}, metrics: {} };
const executor = demoExecutorFor(model, spec);
const context = await createStageContext({ outDir: join(root, 'run'), cacheDir: false });
const server = await startDemoServer({ executor, context, port: 0, maxQueue: 8, info: { title: 'bench', instruction: spec.instruction, examples: [], model: { id: 'student', runtime: executor.name } } });
const post = (input: string) => fetch(new URL('/api/predict', server.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input }) });

const firstStarted = performance.now();
await (await post('a great film')).json();
const firstMs = performance.now() - firstStarted;

const wall: number[] = [];
const model_: number[] = [];
const started = performance.now();
for (let index = 0; index < requests; index++) {
  const t0 = performance.now();
  const body = (await (await post(index % 2 ? 'an awful film' : 'a great film')).json()) as { latencyMs: number };
  wall.push(performance.now() - t0);
  model_.push(body.latencyMs);
}
const totalS = (performance.now() - started) / 1000;
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

const burst = await Promise.all(Array.from({ length: 20 }, (_, index) => post(`burst ${index} good`).then((response) => response.status)));
const counts = burst.reduce<Record<number, number>>((all, status) => ({ ...all, [status]: (all[status] ?? 0) + 1 }), {});

await server.close();
const exported = await exportStaticDemo({ model, spec, outDir: join(root, 'site') });
await rm(root, { recursive: true, force: true });

console.log(`first request (loads the ONNX model): ${firstMs.toFixed(0)} ms`);
console.log(`${requests} sequential /api/predict: ${(requests / totalS).toFixed(0)} req/s; HTTP round trip p50 ${quantile(wall, 0.5).toFixed(1)} ms, p95 ${quantile(wall, 0.95).toFixed(1)} ms; model call p50 ${quantile(model_, 0.5).toFixed(1)} ms`);
console.log(`burst of 20 concurrent requests, queue 8: ${Object.entries(counts).map(([status, count]) => `${count}× ${status}`).join(', ')}`);
console.log(`static export: ${exported.files.length} files, ${(exported.bytes / 1e6).toFixed(1)} MB (${exported.dtypes.join(' + ')}), onnxruntime-web ${exported.versions.onnxruntimeWeb}`);

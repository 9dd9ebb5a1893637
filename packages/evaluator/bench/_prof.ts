import { createStageContext, formatTrainingPrompt } from '@prompt2model/core/internal';
import { OnnxExecutor } from '../src/executors/onnx-executor.js';
const kind = process.argv[2] ?? 'llama';
const batch = Number(process.argv[3] ?? 1);
const model = `/tmp/exbench/${kind}/onnx-model`;
const prompts = Array.from({ length: 32 }, (_, i) => formatTrainingPrompt('Write the words in uppercase.', `cat dog ${i}`));
const ctx = await createStageContext({ outDir: '/tmp/exbench/ctx', cacheDir: false });
const ex = new OnnxExecutor({ model, batchSize: batch, maxNewTokens: 16, threads: 1 });
await ex.execute(prompts.slice(0, 2), ctx);
const gen = await (ex as any).load();
let runMs = 0, runs = 0, runCpu = 0;
for (const key of ['decoder', 'encoder']) {
  const s = gen[key]; if (!s) continue;
  const orig = s.run.bind(s);
  s.run = async (f: any) => { const t = performance.now(); const c = process.cpuUsage(); const r = await orig(f); runMs += performance.now() - t; const d = process.cpuUsage(c); runCpu += (d.user + d.system) / 1000; runs++; return r; };
}
for (let rep = 0; rep < 3; rep++) {
  runMs = 0; runs = 0; runCpu = 0;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  await ex.execute(prompts, ctx);
  const wall = performance.now() - t0; const cpu = process.cpuUsage(c0);
  console.log(`${kind} b${batch}: wall ${(wall / 32).toFixed(2)} ms/ex, cpu ${((cpu.user + cpu.system) / 1000 / 32).toFixed(2)} ms/ex, in run ${(runMs / 32).toFixed(2)} ms/ex (cpu ${(runCpu/32).toFixed(2)}), runs ${runs}`);
}
await ex.dispose();

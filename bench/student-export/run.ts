// The deployable student on CPU: export time, ONNX-in-Node latency per example vs the PyTorch
// predict worker, q8 size and agreement, on tiny models built and trained here (uppercase toy task).
//   node --import tsx bench/student-export/run.ts [--hidden 256] [--layers 4] [--examples 64]
// Needs the Python stack (`prompt2model setup`, or P2M_PYTHON). Torch runs on one thread.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createStageContext, formatTrainingPrompt, readJsonlAll, type TrainedModel } from '@prompt2model/core/internal';
import { OnnxExecutor } from '@prompt2model/evaluator';
import { createTrainer, defaultPython, exportTrainedModel, LocalBackend, parseTrainingJob, WorkerExecutor } from '@prompt2model/trainer/internal';

const { values } = parseArgs({ options: { hidden: { type: 'string', default: '256' }, layers: { type: 'string', default: '4' }, examples: { type: 'string', default: '64' } } });
const python = defaultPython();
const threads = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const root = await mkdtemp(join(tmpdir(), 'p2m-bench-student-'));
const tinyModels = resolve(import.meta.dirname, '../../packages/trainer/python/bench/tiny_models.py');

async function run(kind: 'llama' | 't5') {
  const dir = join(root, kind);
  const built = spawnSync(python, [tinyModels, '--out', dir, '--kind', kind, '--hidden', values.hidden!, '--layers', values.layers!, '--rows', '256', '--task', 'uppercase'], { encoding: 'utf8', env: { ...process.env, ...threads } });
  if (built.status !== 0) throw new Error(built.stderr);
  const { model: base, instruction } = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
  const context = await createStageContext({ outDir: join(root, `run-${kind}`), cacheDir: false });
  const job = parseTrainingJob({ baseModel: base, instruction, method: 'full', epochs: 6, batchSize: 16, learningRate: kind === 't5' ? 1e-2 : 3e-3, precision: 'fp32', evalEachEpoch: false, earlyStoppingPatience: 0, data: { train: join(dir, 'train.jsonl') } });
  const trained: TrainedModel = await createTrainer({ backend: new LocalBackend({ python, env: threads }) }).train(job, context);
  const started = performance.now();
  const { model, export: exported } = await exportTrainedModel(trained, { quantize: 'q8', python, env: threads });
  const exportSeconds = (performance.now() - started) / 1000;
  const rows = await readJsonlAll<{ input: string }>(join(dir, 'test.jsonl'));
  const inputs = Array.from({ length: Number(values.examples) }, (_, i) => rows[i % rows.length]!.input);
  const format = (input: string) => formatTrainingPrompt(instruction, input);
  const measure = async (executor: WorkerExecutor | OnnxExecutor) => {
    const ctx = await createStageContext({ outDir: join(root, `m-${kind}-${Math.random()}`), cacheDir: false });
    if (executor instanceof OnnxExecutor) await executor.execute(inputs.slice(0, 2), ctx); // load + warm up
    const predictions = await executor.execute(inputs, ctx);
    return { outputs: predictions.map((p) => p.output), msPerExample: predictions.reduce((sum, p) => sum + p.latencyMs, 0) / predictions.length };
  };
  const lines: string[] = [];
  const pytorch: Record<number, { outputs: string[]; msPerExample: number }> = {};
  for (const batchSize of [1, 8]) {
    pytorch[batchSize] = await measure(new WorkerExecutor({ model, instruction, python, env: threads, batchSize, maxNewTokens: 16, device: 'cpu' }));
    lines.push(`| ${kind} | PyTorch predict worker (fp32) | ${batchSize} | ${pytorch[batchSize]!.msPerExample.toFixed(2)} | – |`);
  }
  for (const dtype of ['fp32', 'q8']) {
    for (const batchSize of [1, 8]) {
      const result = await measure(new OnnxExecutor({ model: model.artifacts.onnx!, batchSize, maxNewTokens: 16, dtype, formatInput: format }));
      const agree = result.outputs.filter((output, i) => output === pytorch[1]!.outputs[i]).length;
      lines.push(`| ${kind} | ONNX in Node (${dtype}) | ${batchSize} | ${result.msPerExample.toFixed(2)} | ${agree}/${inputs.length} |`);
    }
  }
  const fp32 = exported.bytes / 1e6;
  const q8 = (exported.quantizedBytes ?? 0) / 1e6;
  return { lines, summary: `| ${kind} | ${exportSeconds.toFixed(1)} s | ${fp32.toFixed(2)} MB | ${q8.toFixed(2)} MB (${((q8 / fp32) * 100).toFixed(0)}%) |` };
}

try {
  const results = [await run('llama'), await run('t5')];
  console.log(`date ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores), torch 1 thread, hidden ${values.hidden}, layers ${values.layers}, ${values.examples} examples, 16 new tokens max\n`);
  console.log('| model | runtime | batch | ms / example | same answer as PyTorch (batch 1) |\n|---|---|---|---|---|');
  for (const result of results) console.log(result.lines.join('\n'));
  console.log('\n| model | export time (fp32 + q8) | ONNX fp32 | ONNX q8 |\n|---|---|---|---|');
  for (const result of results) console.log(result.summary);
} finally {
  await rm(root, { recursive: true, force: true });
}

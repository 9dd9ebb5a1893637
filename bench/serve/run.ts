// `prompt2model serve` throughput: requests per second at 1 and 8 concurrent clients (the real
// openai SDK, one request per client at a time), against the raw executor in this process, and the
// dynamic-batching gain at 8 clients (the same server with --max-batch 1). The server runs in another
// process from the built CLI (`npm run build` first), on a tiny exported model:
//   node --import tsx bench/serve/run.ts [--requests 64] [--kind t5|llama] [--hidden 64] [--layers 2] [--max-tokens 16] [--threads N] [--window 5]
// With the Python stack (P2M_PYTHON or `prompt2model setup`) the model is a tiny randomly initialised
// transformers T5/Llama exported to ONNX by our exporter; `--tiny-onnx` uses the testing package's
// hand-built ONNX seq2seq instead (no Python, near-zero model time: the server's own overhead).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { createStageContext, executorForModel, type TrainedModel } from '@prompt2model/core/internal';
import { evaluatorExecutors } from '@prompt2model/evaluator/internal';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';
import { defaultPython, exportTrainedModel } from '@prompt2model/trainer/internal';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '64' },
    kind: { type: 'string', default: 't5' },
    hidden: { type: 'string', default: '64' },
    layers: { type: 'string', default: '2' },
    'max-tokens': { type: 'string', default: '16' },
    'tiny-onnx': { type: 'boolean', default: false },
    threads: { type: 'string' },
    window: { type: 'string', default: '5' },
  },
});
const requests = Number(values.requests);
const maxTokens = Number(values['max-tokens']);
const cli = resolve(import.meta.dirname, '../../packages/prompt2model/bin/prompt2model.js');
const threads = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const root = await mkdtemp(join(tmpdir(), 'p2m-bench-serve-'));
const localModel = (reference: string): TrainedModel => ({ backend: 'local', reference, kind: 'local-folder', baseModel: '', method: 'full', artifacts: {}, metrics: {} });

/** The model folder and the instruction its inputs are wrapped with. */
async function buildModel(): Promise<{ dir: string; instruction: string; inputs: string[]; description: string }> {
  if (values['tiny-onnx']) {
    const dir = join(root, 'tiny-onnx');
    await buildTinySeq2Seq(dir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords' });
    const inputs = ['a great film', 'boring and awful', 'I loved it', 'bad acting', 'good', 'the cat sat on the mat', 'awful', 'great great'];
    return { dir, instruction: 'Classify the sentiment.', inputs, description: 'hand-built tiny ONNX seq2seq (testing package)' };
  }
  const python = defaultPython();
  const dir = join(root, values.kind!);
  const tinyModels = resolve(import.meta.dirname, '../../packages/trainer/python/bench/tiny_models.py');
  const built = spawnSync(python, [tinyModels, '--out', dir, '--kind', values.kind!, '--hidden', values.hidden!, '--layers', values.layers!, '--rows', '64', '--task', 'uppercase'], { encoding: 'utf8', env: { ...process.env, ...threads } });
  if (built.status !== 0) throw new Error(`building the tiny model failed (is the Python stack set up? P2M_PYTHON): ${built.stderr}`);
  const { model, instruction } = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
  const { model: exported } = await exportTrainedModel(localModel(model), { python, env: threads });
  const inputs = Array.from({ length: 16 }, (_, i) => `word${i} alpha beta gamma ${i}`.slice(0, 24));
  return { dir: exported.artifacts.onnx!, instruction, inputs, description: `tiny ${values.kind} (hidden ${values.hidden}, ${values.layers} layers, random weights) exported to ONNX fp32` };
}

/** Requests per second of `clients` closed-loop clients sending `total` requests through `send`. */
async function throughput(clients: number, total: number, send: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) await send(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function startServe(dir: string, instruction: string, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--model', dir, '--instruction', instruction, '--model-name', 'student', '--max-new-tokens', String(maxTokens), '--port', '0', '--json', ...(values.threads ? ['--threads', values.threads] : []), ...extra], {
    env: { ...process.env, ...threads },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  child.kill('SIGINT');
  await exited;
}

try {
  const { dir, instruction, inputs, description } = await buildModel();
  const input = (index: number) => inputs[index % inputs.length]!;

  // The raw executor in this process: one input per call (1 client), and calls of 8 inputs (the batching ceiling).
  const executor = executorForModel(localModel(dir), { instruction }, evaluatorExecutors({ onnx: { batchSize: 8, maxNewTokens: maxTokens, ...(values.threads ? { threads: Number(values.threads) } : {}) } }));
  const context = await createStageContext({ outDir: join(root, 'raw'), cacheDir: false });
  await executor.execute(inputs.slice(0, 8), context);
  const raw1 = await throughput(1, requests, (index) => executor.execute([input(index)], context, { maxNewTokens: maxTokens }));
  const raw8Started = performance.now();
  for (let start = 0; start < requests; start += 8) {
    await executor.execute(Array.from({ length: 8 }, (_, i) => input(start + i)), context, { maxNewTokens: maxTokens });
  }
  const raw8 = requests / ((performance.now() - raw8Started) / 1000);
  await executor.dispose?.();

  const measureServer = async (extra: string[]) => {
    const { child, url } = await startServe(dir, instruction, extra);
    try {
      const client = new OpenAI({ baseURL: url, apiKey: 'bench', maxRetries: 0 });
      const send = (index: number) => client.completions.create({ model: 'student', prompt: input(index), max_tokens: maxTokens });
      await throughput(8, 16, send); // load the model, warm up
      const calls = async () => ((await (await fetch(`${url}/stats`)).json()) as { modelCalls: { calls: number; inputs: number; totalMs: number } }).modelCalls;
      const start = await calls();
      const one = await throughput(1, requests, send);
      const before = await calls();
      const eight = await throughput(8, requests, send);
      const after = await calls();
      // The server's own model time per request at 1 client: the rest of the request's time is HTTP, JSON and the client.
      return { one, eight, meanBatch: (after.inputs - before.inputs) / (after.calls - before.calls), modelMsAtOne: (before.totalMs - start.totalMs) / requests };
    } finally {
      await stop(child);
    }
  };
  const batched = await measureServer(['--batch-window', values.window!]);
  const unbatched = await measureServer(['--max-batch', '1']);

  const f = (value: number) => value.toFixed(1);
  console.log(`date ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores), ${description}, ${requests} requests per measurement, max_tokens ${maxTokens}, ONNX threads ${values.threads ?? 'default'}\n`);
  console.log('| what | 1 client (req/s) | 8 clients (req/s) |\n|---|---|---|');
  console.log(`| raw executor in process (1 input per call; 8 per call) | ${f(raw1)} | ${f(raw8)} |`);
  console.log(`| prompt2model serve (batching: max 8, ${values.window} ms window) | ${f(batched.one)} | ${f(batched.eight)} |`);
  console.log(`| prompt2model serve --max-batch 1 (no batching) | ${f(unbatched.one)} | ${f(unbatched.eight)} |`);
  console.log(
    `\nbatching gain at 8 clients: ${(batched.eight / unbatched.eight).toFixed(2)}x (serve vs serve --max-batch 1); ` +
      `serve at 8 clients = ${((batched.eight / raw8) * 100).toFixed(0)}% of the raw executor's 8-input calls; ` +
      `serve at 1 client = ${((batched.one / raw1) * 100).toFixed(0)}% of the raw executor's single calls; mean batch at 8 clients ${batched.meanBatch.toFixed(2)}\n` +
      `at 1 client: ${(1000 / batched.one).toFixed(1)} ms per request through serve, of which ${batched.modelMsAtOne.toFixed(1)} ms in the server's model call; the raw executor ${(1000 / raw1).toFixed(1)} ms`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}

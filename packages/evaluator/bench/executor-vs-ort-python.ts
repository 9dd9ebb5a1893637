// The ONNX executor against onnxruntime in Python on the same exported files, in one run.
//   node --import tsx packages/evaluator/bench/executor-vs-ort-python.ts [--hidden 256] [--layers 4]
//     [--examples 32] [--max-new-tokens 16] [--threads 1] [--repeats 7] [--dir DIR] [--no-before] [--before-threads]
// Needs the Python stack (`prompt2model setup`, or P2M_PYTHON) with onnxruntime. It builds a tiny
// T5 and a tiny Llama (tiny_models.py: word-level tokenizer, the add-one-to-each-digit toy task),
// trains each for 4 epochs (so answers are real, varied digit strings) and exports it with the
// trainer's exportOnnx (the transformers.js layout with the KV cache) into DIR (default a folder
// under the system temp dir, reused by later runs). Then, per model and batch size (1, 8):
//   - onnxruntime in Python: ort_generate.py, a plain greedy loop (numpy feeds, present.* fed back);
//   - the executor: OnnxExecutor.execute over the same prompts;
//   - before (unless --no-before): the previous executor's way, transformers.js `model.generate`,
//     with onnxruntime's default threads as it had (--before-threads: with --threads instead).
// The sides take turns, pass after pass (one pass = all prompts in batches: tokenize, generate,
// decode), so a load spike on this shared machine hits all of them alike; each figure is the best
// pass of the repeats, in wall time and in the process's CPU time (every thread), after a warm-up,
// with the same threads per operator, and each ratio the median, over the rounds, of a side's
// pass against the Python pass of the same round. Prints a Markdown table with the ratios and how many answers
// are identical to Python's.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createStageContext, formatTrainingPrompt, readJsonlAll } from '@prompt2model/core/internal';
import { createTrainer, defaultPython, exportOnnx, LocalBackend, parseTrainingJob } from '@prompt2model/trainer/internal';
import { OnnxExecutor } from '../src/executors/onnx-executor.js';
import { loadTransformers, type TransformersTensor } from '../src/transformers-runtime.js';

const { values } = parseArgs({
  options: {
    hidden: { type: 'string', default: '256' },
    layers: { type: 'string', default: '4' },
    examples: { type: 'string', default: '32' },
    'max-new-tokens': { type: 'string', default: '16' },
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '7' },
    dir: { type: 'string' },
    'no-before': { type: 'boolean', default: false },
    'before-threads': { type: 'boolean', default: false },
  },
});
const hidden = Number(values.hidden);
const layers = Number(values.layers);
const examples = Number(values.examples);
const maxNewTokens = Number(values['max-new-tokens']);
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const batches = [1, 8];
const python = defaultPython();
const here = import.meta.dirname;
const dir = resolve(values.dir ?? join(tmpdir(), `p2m-executor-bench-h${hidden}-l${layers}`));
const pinned = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

type Kind = 't5' | 'llama';

/** Builds, trains (briefly) and exports the model of `kind` once; returns the export folder and the prompts. */
async function prepare(kind: Kind): Promise<{ model: string; prompts: string[] }> {
  const root = join(dir, kind);
  const exported = join(root, 'onnx-model');
  const built = join(root, 'built.json');
  if (!existsSync(join(exported, 'onnx'))) {
    await mkdir(root, { recursive: true });
    console.error(`building, training and exporting the tiny ${kind} into ${root} (once; a few minutes)`);
    const made = spawnSync(python, [resolve(here, '../../trainer/python/bench/tiny_models.py'), '--out', root, '--kind', kind, '--hidden', String(hidden), '--layers', String(layers), '--rows', '256', '--task', 'add-one'], {
      encoding: 'utf8',
      env: { ...process.env, ...pinned },
    });
    if (made.status !== 0) throw new Error(made.stderr);
    const { model: base, instruction } = JSON.parse(made.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
    const context = await createStageContext({ outDir: join(root, 'run'), cacheDir: false });
    const job = parseTrainingJob({ baseModel: base, instruction, method: 'full', epochs: 4, batchSize: 16, learningRate: kind === 't5' ? 1e-2 : 3e-3, precision: 'fp32', evalEachEpoch: false, earlyStoppingPatience: 0, data: { train: join(root, 'train.jsonl') } });
    const trained = await createTrainer({ backend: new LocalBackend({ python, env: pinned }) }).train(job, context);
    await exportOnnx({ model: trained.artifacts.merged ?? trained.artifacts.model ?? trained.reference, out: exported, python, env: { ...process.env, ...pinned } });
    await writeFile(built, JSON.stringify({ instruction }));
  }
  const { instruction } = JSON.parse(await readFile(built, 'utf8')) as { instruction: string };
  const rows = [...(await readJsonlAll<{ input: string }>(join(root, 'test.jsonl'))), ...(await readJsonlAll<{ input: string }>(join(root, 'validation.jsonl')))];
  return { model: exported, prompts: Array.from({ length: examples }, (_, index) => formatTrainingPrompt(instruction, rows[index % rows.length]!.input)) };
}

interface Pass {
  ms: number;
  /** CPU time of the process (every thread) per example: less sensitive to other jobs than wall time. */
  cpuMs: number;
  outputs: string[];
}

/** One side of the comparison: a pass over the prompts (or the first 2 × batch of them, to warm up). */
type Runner = (batch: number, warmup: boolean) => Promise<Pass>;

async function timedPass(prompts: string[], run: (prompts: string[]) => Promise<string[]>): Promise<Pass> {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const outputs = await run(prompts);
  const cpu = process.cpuUsage(cpuStarted);
  return { ms: (performance.now() - started) / prompts.length, cpuMs: (cpu.user + cpu.system) / 1000 / prompts.length, outputs };
}

/** onnxruntime in Python (ort_generate.py), kept running and asked for one pass at a time. */
async function pythonSide(model: string, task: string, prompts: string[]): Promise<{ run: Runner; close: () => void; version: string }> {
  const request = join(dir, `request-${task}.json`);
  await writeFile(request, JSON.stringify({ model, task, prompts, maxNewTokens, threads }));
  const child = spawn(python, [resolve(here, 'ort_generate.py'), request], { env: { ...process.env, ...pinned }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('ort_generate.py stopped');
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  const ready = await next();
  return {
    version: String(ready.onnxruntime),
    run: async (batch, warmup) => {
      child.stdin.write(`${JSON.stringify({ batch, warmup })}\n`);
      return (await next()) as unknown as Pass;
    },
    close: () => child.stdin.end(),
  };
}

/** The executor, one per batch size. */
async function executorSide(model: string, prompts: string[]): Promise<{ run: Runner; close: () => Promise<void> }> {
  const context = await createStageContext({ outDir: join(dir, 'context'), cacheDir: false });
  const executors = new Map(batches.map((batch) => [batch, new OnnxExecutor({ model, batchSize: batch, maxNewTokens, threads })]));
  return {
    run: (batch, warmup) =>
      timedPass(warmup ? prompts.slice(0, batch * 2) : prompts, async (chosen) => (await executors.get(batch)!.execute(chosen, context)).map((prediction) => prediction.output)),
    close: async () => {
      for (const executor of executors.values()) await executor.dispose();
    },
  };
}

/**
 * The executor before this change: transformers.js `generate`, rows cut at their first end token,
 * with onnxruntime's default threads (it had no way to set them), or --threads with --before-threads.
 */
async function beforeSide(model: string, task: string, prompts: string[]): Promise<{ run: Runner; close: () => Promise<void> }> {
  const transformers = await loadTransformers();
  const modelClass = task === 'text2text-generation' ? transformers.AutoModelForSeq2SeqLM : transformers.AutoModelForCausalLM;
  const session_options = values['before-threads'] ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
  const tokenizer = await transformers.AutoTokenizer.from_pretrained(model, { local_files_only: true });
  const generator = await modelClass.from_pretrained(model, { dtype: 'fp32', local_files_only: true, session_options });
  const generate = generator as unknown as { generate(options: Record<string, unknown>): Promise<TransformersTensor>; generation_config?: { eos_token_id?: number } };
  const decoderOnly = task === 'text-generation';
  const end = Number(generate.generation_config?.eos_token_id);
  const answer = async (texts: string[]) => {
    tokenizer.padding_side = decoderOnly ? 'left' : 'right';
    const encoded = tokenizer(texts, { padding: true, truncation: true, add_special_tokens: true });
    const sequences = (await generate.generate({ ...encoded, max_new_tokens: maxNewTokens, do_sample: false })).tolist() as Array<Array<number | bigint>>;
    const width = decoderOnly ? encoded.input_ids.dims[1]! : 1;
    return sequences.map((row) => {
      const generated = row.slice(width).map(Number);
      const stop = generated.indexOf(end);
      const kept = stop === -1 ? generated : generated.slice(0, stop);
      return kept.length === 0 ? '' : tokenizer.decode(kept, { skip_special_tokens: true }).trim();
    });
  };
  return {
    run: (batch, warmup) =>
      timedPass(warmup ? prompts.slice(0, batch * 2) : prompts, async (chosen) => {
        const outputs: string[] = [];
        for (let start = 0; start < chosen.length; start += batch) outputs.push(...(await answer(chosen.slice(start, start + batch))));
        return outputs;
      }),
    close: async () => {
      await generator.dispose();
    },
  };
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

/** The best pass (the least disturbed by other jobs) in wall time and in CPU time, and the last outputs. */
function best(passes: Pass[]): Pass {
  return { ms: Math.min(...passes.map((pass) => pass.ms)), cpuMs: Math.min(...passes.map((pass) => pass.cpuMs)), outputs: passes.at(-1)!.outputs };
}

const same = (a: string[], b: string[]) => a.filter((text, index) => text === b[index]).length;

const lines: string[] = [];
let ortPythonVersion = '';
for (const kind of ['t5', 'llama'] as const) {
  const { model, prompts } = await prepare(kind);
  const task = kind === 't5' ? 'text2text-generation' : 'text-generation';
  const python = await pythonSide(model, task, prompts);
  ortPythonVersion = python.version;
  const ours = await executorSide(model, prompts);
  const before = values['no-before'] ? undefined : await beforeSide(model, task, prompts);
  const sides = { python: python.run, ours: ours.run, ...(before ? { before: before.run } : {}) };
  const passes: Record<string, Record<number, Pass[]>> = {};
  for (const run of Object.values(sides)) for (const batch of batches) await run(batch, true);
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const batch of batches) {
      for (const [name, run] of Object.entries(sides)) ((passes[name] ??= {})[batch] ??= []).push(await run(batch, false));
    }
  }
  python.close();
  await ours.close();
  await before?.close();
  for (const batch of batches) {
    const pyPasses = passes.python![batch]!;
    const py = best(pyPasses);
    // Each pass against the Python pass just before it (the same moment's load), the median of those ratios.
    const pairedRatio = (side: Pass[], key: 'ms' | 'cpuMs') => median(side.map((pass, index) => pass[key] / pyPasses[index]![key]));
    const figures = (side: Pass[]) => {
      const top = best(side);
      return `${top.ms.toFixed(2)} / ${top.cpuMs.toFixed(2)} | ${pairedRatio(side, 'ms').toFixed(2)}× / **${pairedRatio(side, 'cpuMs').toFixed(2)}×**`;
    };
    const executor = best(passes.ours![batch]!);
    const old = passes.before ? best(passes.before[batch]!) : undefined;
    lines.push(
      `| ${kind} | ${batch} | ${py.ms.toFixed(2)} / ${py.cpuMs.toFixed(2)} | ${figures(passes.ours![batch]!)} | ${passes.before ? figures(passes.before[batch]!) : '– | –'} | ${same(executor.outputs, py.outputs)}/${prompts.length}${old ? ` (before: ${same(old.outputs, py.outputs)}/${prompts.length})` : ''} |`,
    );
    console.error(lines.at(-1));
  }
}
const version = JSON.parse(await readFile(resolve(here, '../../../node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string };
console.log(`date ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} (${cpus().length} cores), load average ${loadavg().map((value) => value.toFixed(1)).join(' ')}`);
console.log(`hidden ${hidden}, layers ${layers}, ${examples} prompts, at most ${maxNewTokens} new tokens, greedy, ${threads} thread(s) per operator (before: ${values['before-threads'] ? threads : "onnxruntime's default"}), best of ${repeats} interleaved passes; onnxruntime-node ${version.version}, onnxruntime (Python) ${ortPythonVersion}\n`);
console.log('Each cell: wall ms / CPU ms per example of the best pass (CPU: the process, every thread); ratios against Python: the median over the rounds of each pass against the Python pass of the same round, wall / CPU.\n');
console.log('| model | batch | onnxruntime in Python | OnnxExecutor | executor / Python | transformers.js generate (before) | before / Python | answers identical to Python |');
console.log('|---|---|---|---|---|---|---|---|');
for (const line of lines) console.log(line);

// The demo on a real student: a tiny T5 built and trained here by the trainer's Python worker
// (uppercase toy task), exported to ONNX with q8 by the export runner, then served (ONNX in Node)
// and exported as a static site answered in headless Chromium. Prints the figures.
//   node --import tsx packages/demo/bench/real-student.ts
// Needs the Python stack (`prompt2model setup`, or P2M_PYTHON) and chromium (P2M_CHROMIUM or /usr/bin/chromium).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStageContext, readJsonlAll, type PromptSpec, type TrainedModel } from '@prompt2model/core';
import { createTrainer, defaultPython, exportTrainedModel, LocalBackend, parseTrainingJob } from '@prompt2model/trainer/internal';
import { createDemoCreator, exportStaticDemo } from '../src/index.js';
import { launchChromium, serveFolder } from '../test/support/browser.js';

const python = defaultPython();
const threads = { OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const root = await mkdtemp(join(tmpdir(), 'p2m-demo-real-'));
const tinyModels = resolve(import.meta.dirname, '../../trainer/python/bench/tiny_models.py');
try {
  const built = spawnSync(python, [tinyModels, '--out', join(root, 't5'), '--kind', 't5', '--hidden', '64', '--layers', '2', '--rows', '256', '--task', 'uppercase'], { encoding: 'utf8', env: { ...process.env, ...threads } });
  if (built.status !== 0) throw new Error(built.stderr);
  const { model: base, instruction } = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as { model: string; instruction: string };
  const context = await createStageContext({ outDir: join(root, 'run'), cacheDir: false });
  const job = parseTrainingJob({ baseModel: base, instruction, method: 'full', epochs: 6, batchSize: 16, learningRate: 1e-2, precision: 'fp32', evalEachEpoch: false, earlyStoppingPatience: 0, data: { train: join(root, 't5', 'train.jsonl') } });
  let started = performance.now();
  const trained: TrainedModel = await createTrainer({ backend: new LocalBackend({ python, env: threads }) }).train(job, context);
  const trainSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const { model } = await exportTrainedModel(trained, { quantize: 'q8', python, env: threads });
  const exportSeconds = (performance.now() - started) / 1000;
  const rows = await readJsonlAll<{ input: string; output: string }>(join(root, 't5', 'validation.jsonl'));
  const spec: PromptSpec = { instruction, examples: rows.slice(0, 3).map(({ input, output }) => ({ input, output })), language: 'en' };
  const probe = rows[3]!;

  const demo = await createDemoCreator({ port: 0 }).create(model, spec, context);
  const ask = async () => (await (await fetch(new URL('/api/predict', demo.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: probe.input }) })).json()) as { output: string; latencyMs: number };
  const first = await ask();
  const second = await ask();
  const info = (await (await fetch(new URL('/api/info', demo.url))).json()) as { streaming: boolean };
  await demo.close();

  const site = await exportStaticDemo({ model, spec, outDir: join(root, 'site') });
  const browser = await launchChromium();
  let browserLine = 'browser: skipped (no chromium)';
  if (browser) {
    const served = await serveFolder(site.outDir);
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on('request', (request) => !request.url().startsWith(served.origin) && outside.push(request.url()));
    await page.goto(`${served.origin}/index.html`);
    await page.locator('body[data-ready="true"]').waitFor();
    const answers: string[] = [];
    for (const dtype of site.dtypes) {
      await page.locator('#dtype').selectOption(dtype).catch(() => undefined);
      await page.locator('#input').fill(probe.input);
      const t0 = performance.now();
      await page.locator('#submit').click();
      await page.locator('#submit:not([disabled])').waitFor({ timeout: 120_000 });
      answers.push(`${dtype} "${await page.locator('#output').textContent()}" (${((performance.now() - t0) / 1000).toFixed(1)} s with load, ${await page.locator('#latency').textContent()})`);
    }
    browserLine = `browser: ${answers.join('; ')}; requests outside the origin: ${outside.length}`;
    await browser.close();
    await served.close();
  }
  console.log(`tiny T5 (hidden 64, 2 layers), trained ${trainSeconds.toFixed(0)} s, exported (fp32 + q8) ${exportSeconds.toFixed(0)} s`);
  console.log(`input "${probe.input}" → expected "${probe.output}"`);
  console.log(`served (ONNX in Node): "${first.output}" first call ${first.latencyMs} ms (loads the model), then ${second.latencyMs} ms; streaming ${info.streaming}`);
  console.log(`static export: ${site.files.length} files, ${(site.bytes / 1e6).toFixed(1)} MB, weights ${site.dtypes.join(' + ')}`);
  console.log(browserLine);
} finally {
  await rm(root, { recursive: true, force: true });
}

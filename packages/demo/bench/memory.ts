// Resident memory of the demo as a user runs it: `prompt2model demo --model DIR` (the built CLI) in
// its own process, `requests` /api/predict calls of `chars`-character inputs (the default input
// limit is 4,000), `concurrency` at a time (with --verb serve: `prompt2model serve`, POST
// /v1/completions, batched up to 8 a call), and the server process's RSS read from /proc: before
// the first call (model not loaded), the largest seen after any call, at the end, and its peak
// (the kernel's VmHWM, so nothing between two samples is missed).
//   npm run build
//   node --import tsx packages/demo/bench/memory.ts [--requests 1000] [--chars 3990] [--concurrency 1]
//        [--model EXPORT_DIR] [--dtype fp32|q8] [--verb demo|serve] [--cli packages/prompt2model/bin/prompt2model.js]
// Without --model it serves the testing package's tiny seq2seq student (model_max_length 512).
// Linux only (/proc).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildTinySeq2Seq, SENTIMENT_LABELS } from '@prompt2model/testing';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    chars: { type: 'string', default: '3990' },
    concurrency: { type: 'string', default: '1' },
    model: { type: 'string' },
    dtype: { type: 'string' },
    verb: { type: 'string', default: 'demo' },
    cli: { type: 'string', default: resolve(here, '../../prompt2model/bin/prompt2model.js') },
  },
});
const requests = Number(flags.requests);
const chars = Number(flags.chars);
const concurrency = Number(flags.concurrency);
const limitMb = 400;

const root = await mkdtemp(join(tmpdir(), 'p2m-demo-memory-'));
const modelDir = flags.model ? resolve(flags.model) : join(root, 'student');
if (!flags.model) await buildTinySeq2Seq(modelDir, { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
const specFile = join(root, 'spec.json');
await writeFile(specFile, JSON.stringify({ instruction: 'Classify the sentiment of the review.', examples: [{ input: 'a great film', output: 'positive' }], language: 'en' }));

const serve = flags.verb === 'serve';
const args = [flags.cli, serve ? 'serve' : 'demo', '--model', modelDir, '--spec', specFile, '--port', '0', ...(serve ? [] : ['--out', join(root, 'run')]), '--max-queue', String(Math.max(8, concurrency)), '--json', ...(flags.dtype ? ['--dtype', flags.dtype] : [])];
const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
let stderr = '';
server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
const { url, model } = await new Promise<{ url: string; model?: string }>((accept, reject) => {
  server.once('exit', (code) => reject(new Error(`the demo exited with ${code}: ${stderr.slice(-2000)}`)));
  createInterface({ input: server.stdout }).on('line', (line) => {
    try {
      const parsed = JSON.parse(line) as { url?: string; model?: string };
      if (parsed.url) accept({ url: parsed.url, ...(parsed.model ? { model: parsed.model } : {}) });
    } catch {
      // not the JSON line
    }
  });
});

/** The server's RSS and its peak (VmHWM), in MB, from /proc. */
function memory(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

const words = ['a', 'great', 'film', 'awful', 'boring', 'plot', 'loved', 'it', 'the', 'actors'];
const longInput = (seed: number) => {
  let text = '';
  for (let index = seed; text.length < chars; index++) text += `${words[index % words.length]} `;
  return text.slice(0, chars);
};
const before = memory();
const statuses: Record<number, number> = {};
let highest = 0;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const index = next++;
      const response = serve
        ? await fetch(`${url}/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model, prompt: longInput(index) }) })
        : await fetch(new URL('/api/predict', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input: longInput(index) }) });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      highest = Math.max(highest, memory().rss);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
const after = memory();
server.kill('SIGINT');
await new Promise((accept) => server.once('exit', accept));
await rm(root, { recursive: true, force: true });

console.log(`model: ${flags.model ?? "the testing package's tiny seq2seq ONNX student (model_max_length 512)"}${flags.dtype ? ` (--dtype ${flags.dtype})` : ''}`);
console.log(`${requests} ${serve ? 'POST /v1/completions (prompt2model serve)' : '/api/predict (prompt2model demo)'} of ${chars}-character inputs, ${concurrency} at a time, in ${seconds.toFixed(1)} s (${Object.entries(statuses).map(([status, count]) => `${count}× ${status}`).join(', ')})`);
console.log(`${serve ? 'serve' : 'demo'} process RSS: before the first call ${before.rss.toFixed(0)} MB, highest after a call ${highest.toFixed(0)} MB, at the end ${after.rss.toFixed(0)} MB, peak (VmHWM) ${after.peak.toFixed(0)} MB`);
console.log(after.rss < limitMb ? `at the end under ${limitMb} MB: yes` : `at the end under ${limitMb} MB: NO`);
console.log(after.peak < limitMb ? `peak under ${limitMb} MB: yes` : `peak under ${limitMb} MB: NO`);

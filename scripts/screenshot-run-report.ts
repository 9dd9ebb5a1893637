// Regenerates docs/images/run-report.png: a real `prompt2model run` (CLI, fresh process) against the
// loopback teacher, with the fake training and predict workers (the student echoes its prompt, so
// the report must call it not usable), then report.html in headless Chromium.
// Usage: npm run build && node --import tsx scripts/screenshot-run-report.ts
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startOpenAICompatibleServer } from '@prompt2model/testing';
import { SENTIMENT_PROMPT, sentimentTeacher } from '../packages/prompt2model/test/support/sentiment-teacher.js';

const root = resolve(import.meta.dirname, '..');
const dir = await mkdtemp(join(tmpdir(), 'p2m-report-shot-'));
const server = await startOpenAICompatibleServer({ respond: sentimentTeacher, latencyMs: 10 });
try {
  await writeFile(join(dir, 'prompt.txt'), SENTIMENT_PROMPT);
  const card = { id: 'acme/t5-small-review-sentiment', card: '---\nlicense: apache-2.0\n---\n# T5 small for review sentiment\nA t5-small model fine-tuned for sentiment classification of reviews.', sizeBytes: 240_000_000, downloads: 5000 };
  await writeFile(join(dir, 'cards.jsonl'), `${JSON.stringify(card)}\n`);
  const worker = (name: string) => JSON.stringify([process.execPath, join(root, 'packages/trainer/test/fixtures', name)]);
  const out = join(dir, 'run');
  // Asynchronous: the loopback teacher answers from this process's event loop.
  const child = spawn(process.execPath, [join(root, 'packages/prompt2model/bin/prompt2model.js'), 'run', '--prompt', join(dir, 'prompt.txt'), '--out', out, '--index', join(dir, 'cards.jsonl'), '--num-examples', '60', '--no-retrieve-datasets', '--no-export'], {
    env: { ...process.env, OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'test-key', P2M_CACHE_DIR: join(dir, 'cache'), P2M_WORKER_COMMAND: worker('fake-worker.mjs'), P2M_PREDICT_COMMAND: worker('fake-predict-worker.mjs') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((done) => child.on('close', done));
  if (status !== 0) throw new Error(`prompt2model run failed (${status}):\n${stderr}`);
  const browser = await chromium.launch({ executablePath: process.env.P2M_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  await page.goto(`file://${join(out, 'report.html')}`);
  await page.screenshot({ path: join(root, 'docs/images/run-report.png'), fullPage: false });
  await browser.close();
  console.log(`wrote docs/images/run-report.png from ${out}`);
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}

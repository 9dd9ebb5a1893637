// CPU benchmark of the TypeScript side of training: how fast worker events are parsed and
// rendered, and how fast training data is validated. Run:
//   node --import tsx packages/trainer/bench/protocol.ts
// The GPU benchmark of the Python worker itself is python/bench/bench_worker.py.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStageContext } from '@prompt2model/core';
import { OPENAI_DATA_RULES } from '@prompt2model/openai';
import { createTrainer, LocalBackend, parseTrainingJob, runWorkerProcess, validateTrainingData } from '../src/internal.js';

const FAKE_WORKER = resolve(import.meta.dirname, '../test/fixtures/fake-worker.mjs');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(runs: number, fn: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return median(times);
}

const dir = await mkdtemp(join(tmpdir(), 'p2m-trainer-bench-'));
try {
  // 1. Raw protocol: a process printing 200k step events; we parse and yield each.
  const events = 200_000;
  const emitter = `let s='';for(let i=1;i<=${events};i++){s+=JSON.stringify({type:'step',step:i,totalSteps:${events},loss:1/i,learningRate:3e-4,tokensPerSecond:12345.6})+'\\n';if(s.length>1<<16){process.stdout.write(s);s=''}}process.stdout.write(s+JSON.stringify({type:'done'})+'\\n')`;
  const baselineMs = await timed(3, async () => {
    await new Promise<void>((done) => {
      const child = spawn(process.execPath, ['-e', emitter], { stdio: ['ignore', 'ignore', 'ignore'] });
      child.on('close', () => done());
    });
  });
  let seen = 0;
  const protocolMs = await timed(3, async () => {
    seen = 0;
    for await (const event of runWorkerProcess({ command: process.execPath, args: ['-e', emitter] })) if (event.type === 'step') seen++;
  });
  console.log(`protocol: ${seen} events in ${protocolMs.toFixed(0)} ms (process alone ${baselineMs.toFixed(0)} ms) = ${Math.round(seen / (protocolMs / 1000)).toLocaleString('en-US')} events/s`);

  // 2. Whole trainer over the stand-in worker: parse + persist to events.jsonl + progress events.
  const rows = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ input: `What is ${i} plus one?`, output: String(i + 1) })).join('\n') + '\n';
  const train = join(dir, 'train.jsonl');
  await writeFile(train, rows);
  let steps = 0;
  const trainerMs = await timed(3, async () => {
    const context = await createStageContext({ outDir: await mkdtemp(join(dir, 'run-')), cacheDir: false });
    steps = 0;
    context.events.on((event) => {
      if (event.type === 'progress') steps++;
    });
    await createTrainer({ backend: new LocalBackend({ workerCommand: [process.execPath, FAKE_WORKER] }) }).train(
      parseTrainingJob({ baseModel: 'google/flan-t5-small', epochs: 1, batchSize: 1, data: { train } }),
      context,
    );
  });
  console.log(`trainer: ${steps} progress events end to end (validate, estimate, spawn, parse, store, progress) in ${trainerMs.toFixed(0)} ms = ${Math.round(steps / (trainerMs / 1000)).toLocaleString('en-US')} steps/s`);

  // 3. Data validation (text and chat formats) over 100k rows.
  const big = join(dir, 'big.jsonl');
  await writeFile(big, Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ input: `Translate sentence number ${i} into French, please.`, output: `Phrase numéro ${i}.` })).join('\n') + '\n');
  const job = parseTrainingJob({ baseModel: 'gpt-4o-mini-2024-07-18', data: { train: big } });
  const textMs = await timed(3, async () => void (await validateTrainingData(job)));
  const chatMs = await timed(3, async () => void (await validateTrainingData(job, OPENAI_DATA_RULES)));
  console.log(`validation: 100,000 rows text format ${textMs.toFixed(0)} ms (${Math.round(100_000 / (textMs / 1000)).toLocaleString('en-US')} rows/s), chat format ${chatMs.toFixed(0)} ms (${Math.round(100_000 / (chatMs / 1000)).toLocaleString('en-US')} rows/s)`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, median of 3 runs`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

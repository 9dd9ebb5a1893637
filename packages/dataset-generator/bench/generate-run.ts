/**
 * Benchmark of the dataset generator; start it through `bench/generate.ts`.
 *
 * Part 1: 1,000 examples from a loopback OpenAI-compatible teacher with 150 ms latency, a 600 RPM
 * limit enforced by the server, 10% label noise and 3% injected faults (429, 500, 503, truncated
 * JSON). Reports wall time against the rate-limit floor (every HTTP request the run needed, spaced
 * at 600 per minute), the duplicate rate of the output and label accuracy against the truth.
 *
 * Part 2 (a child process, so its peak RSS is its own): 100,000 examples from an in-process mock
 * teacher, reporting peak RSS.
 *
 * Options: --examples N (part 1, default 1000), --memory-examples N (part 2, default 100000),
 * --heap-limit MB (part 2 with --max-old-space-size), --no-429-faults (part 1 without injected 429s),
 * --skip-rate, --skip-memory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStageContext, estimateTokens, readJsonl, type Example, type LanguageModel, type LanguageModelRequest } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai';
import { startOpenAICompatibleServer, type FaultKind } from '@prompt2model/testing';
import { NearDuplicateIndex, createDatasetGenerator, normalizeText, type GenerationSummary } from '../src/internal.js';
import { sentimentSpec, sentimentTeacher, trueLabel } from '../test/support/sentiment-world.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};

async function rateLimitedRun(numExamples: number): Promise<void> {
  const rpm = 600;
  // --no-429-faults: inject only 500, 503 and truncated bodies (429s make the client pause everything).
  const faultKinds: FaultKind[] = flag('--no-429-faults')
    ? ['server-error', 'unavailable', 'truncated']
    : ['rate-limit', 'server-error', 'unavailable', 'truncated'];
  const server = await startOpenAICompatibleServer({
    respond: sentimentTeacher({ labelNoise: 0.1 }) as never,
    latencyMs: 150,
    requestsPerMinute: rpm,
    faults: { rate: 0.03, kinds: faultKinds, seed: 11 },
    retryAfterSeconds: 1,
    recordRequests: false,
  });
  const outDir = await mkdtemp(join(tmpdir(), 'p2m-bench-generate-'));
  try {
    const context = await createStageContext({
      outDir,
      teacher: createOpenAI({ baseURL: server.url, apiKey: 'bench' })('loopback-model'),
      // What a user would pass: the endpoint's limit and a concurrency that covers the latency.
      scheduler: { requestsPerMinute: rpm, maxConcurrency: 16 },
    });
    const outputPath = join(outDir, 'dataset.jsonl');
    const started = performance.now();
    const result = await createDatasetGenerator().generate(sentimentSpec, { numExamples, outputPath }, context);
    const wallS = (performance.now() - started) / 1000;
    const summary = result.summary as unknown as GenerationSummary;

    const seen = new Set<string>();
    const near = new NearDuplicateIndex();
    let rows = 0;
    let exactDuplicates = 0;
    let nearDuplicates = 0;
    let correct = 0;
    for await (const row of readJsonl<Example>(outputPath)) {
      rows++;
      const key = normalizeText(row.input);
      if (seen.has(key)) exactDuplicates++;
      else if (near.findNearDuplicate(row.input)) nearDuplicates++;
      seen.add(key);
      near.add(row.input);
      if (row.output === trueLabel(row.input)) correct++;
    }
    const stats = server.stats;
    const floorS = (stats.requests * 60) / rpm;
    // Every 429 carries Retry-After: 1 s, and a client that honours it pauses all requests that long.
    const injected429 = (stats.byStatus[429] ?? 0) - stats.rateLimited;
    const floorWithRetryAfterS = floorS + injected429 * 1;
    const idealFloorS = (stats.completed * 60) / rpm;
    const figures = {
      examples: rows,
      wallSeconds: round(wallS, 1),
      httpRequests: stats.requests,
      completedRequests: stats.completed,
      faultsInjected: stats.faultsInjected,
      serverEnforced429: stats.rateLimited,
      maxRequestsInAnyMinute: stats.maxRequestsInWindow,
      floorSeconds: round(floorS, 1),
      wallOverFloor: round(wallS / floorS, 3),
      injected429WithRetryAfter1s: injected429,
      floorWithRetryAfterSeconds: round(floorWithRetryAfterS, 1),
      wallOverFloorWithRetryAfter: round(wallS / floorWithRetryAfterS, 3),
      floorSecondsCompletedOnly: round(idealFloorS, 1),
      wallOverCompletedFloor: round(wallS / idealFloorS, 3),
      duplicateRate: rows === 0 ? 0 : (exactDuplicates + nearDuplicates) / rows,
      labelAccuracy: round(correct / rows, 4),
      generationRequests: summary.generationRequests,
      candidates: summary.candidates,
      rejected: summary.rejected,
      tokens: summary.tokens,
    };
    console.log(`\n## rate-limited run (loopback teacher: 150 ms, 600 RPM, 10% label noise, 3% faults: ${faultKinds.join(', ')})`);
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The sentiment world's answers for an in-process mock teacher (one text per choice). */
const mockTeacherWorld = sentimentTeacher({ labelNoise: 0.1 });

function mockRespond(request: LanguageModelRequest): string[] {
  const teacher = mockTeacherWorld;
  const body = {
    messages: request.messages,
    ...(request.responseFormat ? { response_format: request.responseFormat } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
  };
  return Array.from({ length: request.n ?? 1 }, (_, choiceIndex) => teacher(body, { choiceIndex }));
}

function fastMockTeacher(): LanguageModel {
  return {
    specificationVersion: 'v1',
    provider: 'mock',
    modelId: 'mock-teacher',
    maxChoicesPerRequest: 8,
    async doGenerate(request) {
      const texts = mockRespond(request);
      const inputTokens = request.messages.reduce((sum, message) => sum + estimateTokens(message.content), 0);
      return {
        choices: texts.map((text) => ({ text, finishReason: 'stop' as const })),
        usage: { inputTokens, outputTokens: texts.reduce((sum, text) => sum + estimateTokens(text), 0) },
      };
    },
  };
}

async function memoryRun(numExamples: number): Promise<void> {
  const outDir = await mkdtemp(join(tmpdir(), 'p2m-bench-memory-'));
  let peak = 0;
  let atPeak = process.memoryUsage();
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > peak) {
      peak = usage.rss;
      atPeak = usage;
    }
  }, 50);
  // With --expose-gc: the live heap every 5 s (after a full GC), to tell retained memory from garbage.
  let liveHeapPeak = 0;
  const gcProbe = (globalThis as { gc?: () => void }).gc
    ? setInterval(() => {
        (globalThis as { gc?: () => void }).gc!();
        liveHeapPeak = Math.max(liveHeapPeak, process.memoryUsage().heapUsed);
      }, 5000)
    : undefined;
  try {
    const context = await createStageContext({
      outDir,
      // A bare LanguageModel: MockLanguageModel records every request, which is not what we measure.
      teacher: fastMockTeacher(),
      // The on-disk cache holds responses on disk, not in memory; off here to spare 100k small files.
      cacheDir: false,
      scheduler: { maxConcurrency: 8 },
    });
    const started = performance.now();
    const result = await createDatasetGenerator().generate(sentimentSpec, { numExamples, outputPath: join(outDir, 'dataset.jsonl') }, context);
    const wallS = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const liveHeapMB = round(process.memoryUsage().heapUsed / 2 ** 20, 1);
    const maxRssBytes = process.resourceUsage().maxRSS * 1024;
    console.log(`\n## memory run (in-process mock teacher, ${numExamples} examples)`);
    console.log(
      JSON.stringify(
        {
          examples: result.count,
          wallSeconds: round(wallS, 1),
          examplesPerSecond: Math.round(result.count / wallS),
          peakRssMB: round(Math.max(peak, maxRssBytes) / 2 ** 20, 1),
          atPeakMB: Object.fromEntries(Object.entries(atPeak).map(([key, bytes]) => [key, round(bytes / 2 ** 20, 1)])),
          ...(gc ? { peakLiveHeapMB: round(liveHeapPeak / 2 ** 20, 1), liveHeapAfterRunMB: liveHeapMB } : {}),
        },
        null,
        2,
      ),
    );
  } finally {
    clearInterval(sampler);
    if (gcProbe) clearInterval(gcProbe);
    await rm(outDir, { recursive: true, force: true });
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

if (flag('--memory-child')) {
  await memoryRun(value('--memory-examples', 100_000));
} else {
  console.log(`dataset-generator benchmark · ${new Date().toISOString()} · Node ${process.version} · ${process.platform}/${process.arch}`);
  if (!flag('--skip-rate')) await rateLimitedRun(value('--examples', 1000));
  if (!flag('--skip-memory')) {
    // A fresh process, so the peak RSS measured is the memory run's alone.
    await new Promise<void>((done, fail) => {
      // --heap-limit MB caps V8's old space (--max-old-space-size) in the memory run, to separate
      // memory the generator needs from garbage V8 has not collected yet.
      const heapLimit = value('--heap-limit', 0);
      const nodeFlags = heapLimit > 0 ? [`--max-old-space-size=${heapLimit}`] : [];
      const child = spawn(process.execPath, [...nodeFlags, ...process.execArgv, process.argv[1]!, '--memory-child', '--memory-examples', String(value('--memory-examples', 100_000))], {
        stdio: 'inherit',
      });
      child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`memory run exited with ${code}`))));
    });
  }
}

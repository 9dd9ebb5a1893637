// Generation against a rate limit, through the CLI (issue 23): the strict teacher
// (bench/generate-rate/server.ts: 1,200 RPM enforced over a sliding 60 s window, 3% injected 429s,
// 2% 500s, 1% slow responses, 100 ms latency or --latency-ms) runs in its own process, and the built CLI
// `prompt2model generate --num-examples N --rpm RPM` runs in another, as a user would run it, with
// OPENAI_BASE_URL pointing at the server and an empty LLM cache. Per run it prints:
// - utilisation over the whole CLI process: requests the server accepted under its limit (every
//   request but the over-limit 429s; injected faults count, they used a slot) / (limit × the CLI's
//   wall time, from spawn to exit: start-up and tail included);
// - the same per 10-second window of that wall time (full windows only);
// - over-limit 429s caused by us (the server's enforced ones, apart from the injected 429s);
// - requests per accepted example (every HTTP request, faulted ones included).
// Then the median over the runs. `--before CLI` runs another build of the CLI (e.g. a checkout of
// an older commit, built) interleaved with this one, run by run, each with its own server, so both
// see the same machine load.
// Usage: node --import tsx bench/generate-rate/run.ts [--examples 1000] [--runs 3] [--rpm 1200]
//          [--cli packages/prompt2model/bin/prompt2model.js] [--before OTHER/bin/prompt2model.js]
//          [--cli-args "--concurrency 16"] [--latency-ms 100] [--dump DIR]
// (after `npm run build`: the CLI runs from its dist).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { dateNormalisationSpec } from '@prompt2model/testing';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1]! : fallback;
};
const examples = Number(option('--examples', '1000'));
const runs = Number(option('--runs', '3'));
const rpm = Number(option('--rpm', '1200'));
const latencyMs = Number(option('--latency-ms', '100'));
const root = resolve(import.meta.dirname, '../..');
const cli = resolve(option('--cli', join(root, 'packages/prompt2model/bin/prompt2model.js')));
const beforeCli = args.includes('--before') ? resolve(option('--before', '')) : undefined;
const cliArgs = option('--cli-args', '').split(' ').filter(Boolean);
// --dump DIR: per run, the server's arrival times and the CLI's spawn and exit times as JSON, for
// finding where the slots go (gaps in the steady state, start-up, tail).
const dumpDir = args.includes('--dump') ? resolve(option('--dump', '')) : undefined;
const WINDOW_MS = 10_000;

interface ServerStats {
  requests: number;
  completed: number;
  rateLimited: number;
  faultsInjected: number;
  byStatus: Record<string, number>;
  maxRequestsInWindow: number;
  arrivals: number[];
  rateLimitedArrivals: number[];
}

interface RunFigures {
  cli: string;
  run: number;
  examples: number;
  wallSeconds: number;
  httpRequests: number;
  accepted: number;
  utilisation: number;
  windowMin: number;
  windowMedian: number;
  windowMax: number;
  overLimit429s: number;
  injectedFaults: number;
  requestsPerExample: number;
  firstRequestAfterSeconds: number;
  tailSeconds: number;
}

/** Starts the server process and resolves with its URL and a function that fetches its stats and stops it. */
async function startServer(seed: number): Promise<{ url: string; finish(): Promise<ServerStats> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server.ts'), '--rpm', String(rpm), '--seed', String(seed), '--latency-ms', String(latencyMs)], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error('the server process exited before printing its URL');
  const { url } = JSON.parse(first.value) as { url: string };
  return {
    url,
    async finish() {
      child.stdin!.end('stats\n');
      const line = await lines.next();
      if (line.done) throw new Error('the server process exited without its stats');
      await new Promise((done) => child.once('exit', done));
      return JSON.parse(line.value) as ServerStats;
    },
  };
}

async function runCli(cli: string, url: string, dir: string, specFile: string): Promise<{ startedAt: number; endedAt: number; output: string }> {
  const argv = [cli, 'generate', '--prompt', specFile, '--num-examples', String(examples), '--out', join(dir, 'run'), '--rpm', String(rpm), '--json', ...cliArgs];
  const startedAt = Date.now();
  const child = spawn(process.execPath, argv, {
    cwd: dir,
    env: { ...process.env, OPENAI_BASE_URL: url, OPENAI_API_KEY: 'bench-key', P2M_CACHE_DIR: join(dir, 'cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  const endedAt = Date.now();
  if (code !== 0) throw new Error(`the CLI exited with ${code}:\n${errors}`);
  return { startedAt, endedAt, output };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function runOnce(name: string, cli: string, run: number): Promise<RunFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'p2m-bench-generate-rate-'));
  try {
    const specFile = join(dir, 'prompt-spec.json');
    await writeFile(specFile, JSON.stringify(dateNormalisationSpec));
    const server = await startServer(run);
    let stats: ServerStats;
    let timing: Awaited<ReturnType<typeof runCli>>;
    try {
      timing = await runCli(cli, server.url, dir, specFile);
    } finally {
      stats = await server.finish();
    }
    const summary = JSON.parse(timing.output) as { count: number };
    const rows = (await readFile(join(dir, 'run', 'dataset.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    if (rows !== summary.count) throw new Error(`dataset.jsonl has ${rows} rows, the summary says ${summary.count}`);
    // Accepted = admitted under the limit: every arrival but the over-limit 429s.
    const overLimit = [...stats.rateLimitedArrivals];
    const accepted = stats.arrivals.filter((at) => {
      const index = overLimit.indexOf(at);
      if (index < 0) return true;
      overLimit.splice(index, 1);
      return false;
    });
    const wallMs = timing.endedAt - timing.startedAt;
    if (dumpDir) {
      await mkdir(dumpDir, { recursive: true });
      await writeFile(
        join(dumpDir, `${name}-${run}.json`),
        JSON.stringify({ startedAt: timing.startedAt, endedAt: timing.endedAt, arrivals: stats.arrivals, rateLimitedArrivals: stats.rateLimitedArrivals, byStatus: stats.byStatus }),
      );
    }
    const perMs = rpm / 60_000;
    const windows: number[] = [];
    for (let start = timing.startedAt; start + WINDOW_MS <= timing.endedAt; start += WINDOW_MS) {
      const count = accepted.filter((at) => at >= start && at < start + WINDOW_MS).length;
      windows.push(count / (perMs * WINDOW_MS));
    }
    return {
      cli: name,
      run,
      examples: rows,
      wallSeconds: round(wallMs / 1000, 1),
      httpRequests: stats.requests,
      accepted: accepted.length,
      utilisation: round(accepted.length / (perMs * wallMs)),
      // NaN when the run was shorter than one window.
      windowMin: windows.length ? round(Math.min(...windows), 2) : NaN,
      windowMedian: windows.length ? round(median(windows), 2) : NaN,
      windowMax: windows.length ? round(Math.max(...windows), 2) : NaN,
      overLimit429s: stats.rateLimited,
      injectedFaults: stats.faultsInjected,
      requestsPerExample: round(stats.requests / rows),
      firstRequestAfterSeconds: round(((stats.arrivals[0] ?? timing.endedAt) - timing.startedAt) / 1000, 2),
      tailSeconds: round((timing.endedAt - (stats.arrivals.at(-1) ?? timing.startedAt)) / 1000, 2),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const clis: Array<[string, string]> = [['after', cli], ...(beforeCli ? [['before', beforeCli] as [string, string]] : [])];
console.log(
  `generate through the CLI · ${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model.trim()} · load ${loadavg()[0]!.toFixed(1)} · Node ${process.version} · ${examples} examples · ${rpm} RPM · teacher latency ${latencyMs} ms`,
);
for (const [name, path] of clis) console.log(`  ${name}: ${path}${cliArgs.length ? ` ${cliArgs.join(' ')}` : ''}`);
const rows: RunFigures[] = [];
for (let run = 1; run <= runs; run++) {
  for (const [name, path] of clis) {
    rows.push(await runOnce(name, path, run));
    console.log(JSON.stringify(rows.at(-1)));
  }
}
console.table(rows);
for (const [name] of clis) {
  const mine = rows.filter((row) => row.cli === name);
  const pick = (key: keyof RunFigures) => mine.map((row) => row[key] as number);
  console.log(
    `${name}: median over ${runs} runs: utilisation ${round(median(pick('utilisation')))} (range ${Math.min(...pick('utilisation'))}–${Math.max(...pick('utilisation'))}), ` +
      `10 s windows ${Math.min(...pick('windowMin'))}–${Math.max(...pick('windowMax'))}, over-limit 429s ${Math.max(...pick('overLimit429s'))} at most, ` +
      `requests per example ${round(median(pick('requestsPerExample')))}, wall ${round(median(pick('wallSeconds')), 1)} s`,
  );
}
console.log(`load average at the end: ${loadavg().map((value) => value.toFixed(1)).join(' / ')}`);

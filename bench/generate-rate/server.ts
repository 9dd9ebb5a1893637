// The strict teacher for bench/generate-rate/run.ts, in its own process (as a real endpoint is):
// the loopback OpenAI-compatible server of @prompt2model/testing answering the noisy date task,
// 100 ms latency (--latency-ms), an RPM limit it enforces over a sliding 60 s window (every attempt counts, as
// real limiters count them; past the limit: 429 with Retry-After, counted as caused by the
// client), and injected faults apart from that: 3% 429s (Retry-After 1 s), 2% 500s, 1% slow (3 s).
// Prints one JSON line with its URL; on a line "stats" on stdin prints its figures and exits.
// Usage: node --import tsx bench/generate-rate/server.ts --rpm 1200 --seed 1 [--latency-ms 100]
import { createInterface } from 'node:readline';
import { startStrictTeacher } from './strict-teacher.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1]! : fallback;
};
const rpm = Number(option('--rpm', '1200'));
const seed = Number(option('--seed', '1'));
const latencyMs = Number(option('--latency-ms', '100'));
const server = await startStrictTeacher({ requestsPerMinute: rpm, seed, latencyMs, recordRequests: false });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stats') continue;
  const { arrivals, rateLimitedArrivals, ...stats } = server.stats;
  process.stdout.write(`${JSON.stringify({ ...stats, arrivals, rateLimitedArrivals })}\n`);
  break;
}
await server.close();

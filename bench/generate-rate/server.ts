// The strict teacher for bench/generate-rate/run.ts, in its own process (as a real endpoint is):
// the loopback OpenAI-compatible server of @prompt2model/testing answering the noisy date task,
// 100 ms latency, an RPM limit it enforces over a sliding 60 s window (every attempt counts, as
// real limiters count them; past the limit: 429 with Retry-After, counted as caused by the
// client), and injected faults apart from that: 3% 429s (Retry-After 1 s), 2% 500s, 1% slow (3 s).
// Prints one JSON line with its URL; on a line "stats" on stdin prints its figures and exits.
// Usage: node --import tsx bench/generate-rate/server.ts --rpm 1200 --seed 1
import { createInterface } from 'node:readline';
import { noisyDateTeacher, startOpenAICompatibleServer, type FaultKind } from '@prompt2model/testing';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1]! : fallback;
};
const rpm = Number(option('--rpm', '1200'));
const seed = Number(option('--seed', '1'));
// 6% faults: half 429s, a third 500s, a sixth slow.
const kinds: FaultKind[] = ['rate-limit', 'rate-limit', 'rate-limit', 'server-error', 'server-error', 'slow'];
const server = await startOpenAICompatibleServer({
  respond: noisyDateTeacher(),
  latencyMs: 100,
  requestsPerMinute: rpm,
  faults: { rate: 0.06, kinds, seed: 100 + seed },
  retryAfterSeconds: 1,
  slowMs: 3000,
  recordRequests: false,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stats') continue;
  const { arrivals, rateLimitedArrivals, ...stats } = server.stats;
  process.stdout.write(`${JSON.stringify({ ...stats, arrivals, rateLimitedArrivals })}\n`);
  break;
}
await server.close();

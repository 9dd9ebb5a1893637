// Scheduler benchmark: N requests against a loopback OpenAI-compatible server with 100 ms latency
// that enforces 600 RPM over a 60 s sliding window. Reports the achieved rate as a fraction of the
// limit, 429s caused by us, and (second run) lost requests under 5% injected 429/5xx faults.
// Usage: node --import tsx bench/scheduler/run.ts [requests=300]
import { LanguageModelClient, RequestScheduler } from '@prompt2model/core';
import { createOpenAI } from '@prompt2model/openai';
import { startOpenAICompatibleServer, type FaultKind } from '@prompt2model/testing';

const requests = Number(process.argv[2] ?? 300);
const RPM = 600;

async function scenario(name: string, faults?: { rate: number; kinds: FaultKind[] }) {
  const server = await startOpenAICompatibleServer({
    latencyMs: 100,
    requestsPerMinute: RPM,
    retryAfterSeconds: 1,
    ...(faults ? { faults: { ...faults, seed: 11 } } : {}),
    respond: (request) => `ok:${String(request.messages.at(-1)!.content)}`,
  });
  const scheduler = new RequestScheduler({ requestsPerMinute: RPM, maxConcurrency: 16, initialBackoffMs: 500 });
  const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'bench' })('bench-model'), scheduler });
  const started = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: requests }, (_, i) => client.generate({ messages: [{ role: 'user', content: `request ${i}` }] })),
  );
  const elapsedMs = Date.now() - started;
  const ok = results.filter((r) => r.status === "fulfilled").length;
  const lost = results.filter((r) => r.status === 'rejected').length;
  const arrivals = server.stats.arrivals;
  const span = arrivals.at(-1)! - arrivals[0]!;
  const arrivalRatePerMin = ((arrivals.length - 1) / span) * 60_000;
  const row = {
    scenario: name,
    requests,
    completed: ok,
    lost,
    elapsedS: +(elapsedMs / 1000).toFixed(2),
    arrivalRatePerMin: +arrivalRatePerMin.toFixed(1),
    fractionOfLimit: +(arrivalRatePerMin / RPM).toFixed(3),
    rateLimitFloorS: +(((requests - 1) / RPM) * 60).toFixed(2),
    wallVsFloor: +(elapsedMs / 1000 / (((requests - 1) / RPM) * 60 + 0.1)).toFixed(3),
    http429CausedByUs: server.stats.rateLimited,
    faultsInjected: server.stats.faultsInjected,
    retries: scheduler.stats.retries,
    maxRequestsIn60s: server.stats.maxRequestsInWindow,
  };
  await server.close();
  return row;
}

const rows = [await scenario('clean'), await scenario('5% injected 429/5xx', { rate: 0.05, kinds: ['rate-limit', 'server-error', 'unavailable'] })];
console.table(rows);
console.log(JSON.stringify(rows));

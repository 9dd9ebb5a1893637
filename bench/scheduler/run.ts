// Scheduler benchmark: N requests against a loopback OpenAI-compatible server with 100 ms latency
// that enforces 600 RPM over a sliding 60 s window. Reports the achieved rate as a fraction of the
// limit, 429s caused by us (the server's enforced ones), lost requests and the scheduler's pauses.
// Scenarios run side by side (each has its own server and scheduler): clean, 5% faults (429, 500,
// 503), and 3% random 429s, with the adaptive 429 policy; the faulted ones also with the policy
// before issue 12 (any two 429s within 5 s pause every request, `rateLimitBurstShare: 0`).
// Enough requests to fill several 60 s windows: 1,500 at 600 RPM is 150 s per scenario.
// Usage: node --import tsx bench/scheduler/run.ts [requests=1500]
import { LanguageModelClient, RequestScheduler, type RequestSchedulerOptions } from '@prompt2model/core/internal';
import { createOpenAI } from '@prompt2model/openai/internal';
import { startOpenAICompatibleServer, type FaultKind } from '@prompt2model/testing';

const requests = Number(process.argv[2] ?? 1500);
const RPM = 600;

async function scenario(name: string, faults?: { rate: number; kinds: FaultKind[] }, policy: Partial<RequestSchedulerOptions> = {}) {
  const server = await startOpenAICompatibleServer({
    latencyMs: 100,
    requestsPerMinute: RPM,
    retryAfterSeconds: 1,
    recordRequests: false,
    ...(faults ? { faults: { ...faults, seed: 11 } } : {}),
    respond: (request) => `ok:${String(request.messages.at(-1)!.content)}`,
  });
  const scheduler = new RequestScheduler({ requestsPerMinute: RPM, maxConcurrency: 16, initialBackoffMs: 500, ...policy });
  const client = new LanguageModelClient({ model: createOpenAI({ baseURL: server.url, apiKey: 'bench' })('bench-model'), scheduler });
  const started = Date.now();
  const results = await Promise.allSettled(
    Array.from({ length: requests }, (_, i) => client.generate({ messages: [{ role: 'user', content: `request ${i}` }] })),
  );
  const elapsedMs = Date.now() - started;
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const lost = results.filter((r) => r.status === 'rejected').length;
  const arrivals = server.stats.arrivals;
  const span = arrivals.at(-1)! - arrivals[0]!;
  const arrivalRatePerMin = ((arrivals.length - 1) / span) * 60_000;
  const row = {
    scenario: name,
    requests,
    completed: ok,
    lost,
    elapsedS: +(elapsedMs / 1000).toFixed(1),
    httpRequests: arrivals.length,
    arrivalRatePerMin: +arrivalRatePerMin.toFixed(1),
    fractionOfLimit: +(arrivalRatePerMin / RPM).toFixed(3),
    http429CausedByUs: server.stats.rateLimited,
    faultsInjected: server.stats.faultsInjected,
    retries: scheduler.stats.retries,
    pauses: scheduler.stats.rateLimitPauses,
    maxRequestsIn60s: server.stats.maxRequestsInWindow,
  };
  await server.close();
  return row;
}

const faults5 = { rate: 0.05, kinds: ['rate-limit', 'server-error', 'unavailable'] as FaultKind[] };
const random429 = { rate: 0.03, kinds: ['rate-limit'] as FaultKind[] };
const before = { rateLimitBurstShare: 0 };
const rows = await Promise.all([
  scenario('clean'),
  scenario('5% faults (429/500/503)', faults5),
  scenario('5% faults, policy before', faults5, before),
  scenario('3% random 429s', random429),
  scenario('3% random 429s, policy before', random429, before),
]);
console.log(`scheduler benchmark · ${new Date().toISOString()} · Node ${process.version} · ${requests} requests per scenario at ${RPM} RPM`);
console.table(rows);
console.log(JSON.stringify(rows));

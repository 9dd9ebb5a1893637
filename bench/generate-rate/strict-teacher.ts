import { noisyDateTeacher, startOpenAICompatibleServer, type FaultKind, type OpenAICompatibleServer } from '@prompt2model/testing';

/**
 * The teacher of the generation benchmarks (bench/generate, bench/generate-rate): the loopback
 * OpenAI-compatible server answering the noisy date task with 100 ms latency (or `latencyMs`), an RPM limit enforced
 * over a sliding 60 s window (over-limit 429s counted as the client's), and 6% injected faults apart
 * from that: 3% 429s (Retry-After 1 s), 2% 500s, 1% slow (3 s) answers, seeded.
 */
export function startStrictTeacher(options: { requestsPerMinute: number; seed: number; latencyMs?: number; recordRequests?: boolean }): Promise<OpenAICompatibleServer> {
  const kinds: FaultKind[] = ['rate-limit', 'rate-limit', 'rate-limit', 'server-error', 'server-error', 'slow'];
  return startOpenAICompatibleServer({
    respond: noisyDateTeacher(),
    latencyMs: options.latencyMs ?? 100,
    requestsPerMinute: options.requestsPerMinute,
    faults: { rate: 0.06, kinds, seed: 100 + options.seed },
    retryAfterSeconds: 1,
    slowMs: 3000,
    recordRequests: options.recordRequests ?? true,
  });
}

/** What one `execute` call did, for reports (latency, cost per 1,000 requests). */
export interface ExecutionStats {
  /** Inputs run. */
  requests: number;
  /** Requests answered from the LLM call cache (no new cost, near-zero latency). */
  cachedRequests: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * What the requests cost at list price, cached ones included (what the same traffic would cost
   * in production); 0 for local models, whose compute is not priced.
   */
  costUsd: number;
  /** Wall time of the whole call. */
  wallMs: number;
}

export function emptyStats(): ExecutionStats {
  return { requests: 0, cachedRequests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, wallMs: 0 };
}

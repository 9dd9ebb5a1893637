import type { ParsedRequest } from './requests.js';
import type { Choice, Usage } from './wire.js';

/** What `GET /v1/stats` reports: requests, answers and who gave them, model calls, tokens. */
export interface ServeStats {
  model: string;
  /** When the server started (ISO time). */
  startedAt: string;
  requests: { chat: number; completions: number; streamed: number; rejected: number; failed: number };
  /** Choices answered; `answeredBy` counts those whose executor says who answered (a cascade). */
  answers: { total: number; answeredBy: { student: number; teacher: number } };
  /** Model calls, the inputs they ran (the batching at work: `meanBatchSize` above 1 under load) and their wall time. */
  modelCalls: { calls: number; inputs: number; meanBatchSize: number; largestBatch: number; totalMs: number };
  usage: { promptTokens: number; completionTokens: number };
  /** Model inputs waiting now. */
  queue: number;
}

/** The server's counters (one instance per server). */
export class ServeStatistics {
  private readonly startedAt = new Date().toISOString();
  private readonly requests = { chat: 0, completions: 0, streamed: 0, rejected: 0, failed: 0 };
  private readonly answers = { total: 0, answeredBy: { student: 0, teacher: 0 } };
  private readonly calls = { calls: 0, inputs: 0, largestBatch: 0, totalMs: 0 };
  private readonly usage = { promptTokens: 0, completionTokens: 0 };

  constructor(private readonly model: string) {}

  /** One model call over `size` inputs that took `ms`. */
  batch(size: number, ms: number): void {
    this.calls.calls++;
    this.calls.totalMs += ms;
    this.calls.inputs += size;
    this.calls.largestBatch = Math.max(this.calls.largestBatch, size);
  }

  answered(request: ParsedRequest, choices: Choice[], usage: Usage, streamed = false): void {
    if (request.kind === 'chat') this.requests.chat++;
    else this.requests.completions++;
    if (streamed) this.requests.streamed++;
    this.answers.total += choices.length;
    for (const choice of choices) if (choice.answeredBy) this.answers.answeredBy[choice.answeredBy]++;
    this.usage.promptTokens += usage.prompt_tokens;
    this.usage.completionTokens += usage.completion_tokens;
  }

  /** A request refused for load (429) or failed on the server's side (5xx). */
  failed(status: number): void {
    if (status === 429) this.requests.rejected++;
    else this.requests.failed++;
  }

  snapshot(): Omit<ServeStats, 'queue'> {
    return {
      model: this.model,
      startedAt: this.startedAt,
      requests: { ...this.requests },
      answers: { total: this.answers.total, answeredBy: { ...this.answers.answeredBy } },
      modelCalls: { ...this.calls, totalMs: Math.round(this.calls.totalMs), meanBatchSize: this.calls.calls === 0 ? 0 : Math.round((this.calls.inputs / this.calls.calls) * 100) / 100 },
      usage: { ...this.usage },
    };
  }
}

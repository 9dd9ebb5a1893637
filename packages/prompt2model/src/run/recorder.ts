import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_FILES, writeJsonAtomic, type ProgressEmitter } from '@prompt2model/core/internal';

/** Teacher traffic and spending of one stage, over every run of a run folder. */
export interface StageSpending {
  paidCalls: number;
  cachedCalls: number;
  inputTokens: number;
  outputTokens: number;
  usd: number;
}

/** What the run report needs that no artifact holds: spending by stage and the training loss curve. */
export interface RunRecord {
  spending: Record<string, StageSpending>;
  loss: Array<{ step: number; loss: number; epoch?: number }>;
}

export const RUN_RECORD_FILE = RUN_FILES.runRecord;

/**
 * Listens to a run's progress events and keeps, in the run folder, the spending of each stage and
 * the training loss curve, so the report of a resumed run still covers the earlier runs.
 */
export class RunRecorder {
  private constructor(
    private readonly path: string,
    readonly record: RunRecord,
  ) {}

  static async open(outDir: string): Promise<RunRecorder> {
    const path = join(outDir, RUN_RECORD_FILE);
    let record: RunRecord = { spending: {}, loss: [] };
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<RunRecord>;
      record = { spending: parsed.spending ?? {}, loss: Array.isArray(parsed.loss) ? parsed.loss : [] };
    } catch {
      // No record yet (or a damaged one): start a new one; it only feeds the report.
    }
    return new RunRecorder(path, record);
  }

  attach(events: ProgressEmitter): () => void {
    let trainingStarted = false;
    return events.on((event) => {
      if (event.type === 'usage') {
        const stage = event.stage ?? 'other';
        const entry = (this.record.spending[stage] ??= { paidCalls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, usd: 0 });
        if (event.cached) entry.cachedCalls++;
        else entry.paidCalls++;
        entry.inputTokens += event.inputTokens;
        entry.outputTokens += event.outputTokens;
        entry.usd += event.costUsd;
      } else if (event.type === 'stage-start' && event.stage === 'train') {
        trainingStarted = true;
      } else if (event.type === 'progress' && event.stage === 'train' && typeof event.counters?.loss === 'number') {
        if (trainingStarted && this.record.loss.length > 0 && event.done <= this.record.loss.at(-1)!.step) {
          // A retrained model (changed inputs) or a resumed job: keep the curve monotonic in steps.
          this.record.loss = this.record.loss.filter((point) => point.step < event.done);
        }
        this.record.loss.push({ step: event.done, loss: event.counters.loss, ...(typeof event.counters.epoch === 'number' ? { epoch: event.counters.epoch } : {}) });
      } else if (event.type === 'stage-finish') {
        void this.save().catch(() => undefined);
      }
    });
  }

  save(): Promise<void> {
    return writeJsonAtomic(this.path, this.record);
  }
}

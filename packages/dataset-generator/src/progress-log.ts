import { stat } from 'node:fs/promises';
import { type Example, JsonlWriter, lazySchema, readJsonl, repairJsonlTail, ValidationError } from '@prompt2model/core/internal';
import { truncateJsonlRows } from './jsonl-files.js';
import type { AgreementStats } from './label-noise.js';
import type { RejectionReason } from './quality.js';

/** Where the progress log of a dataset file lives: `dataset.jsonl` → `dataset.progress.jsonl`. */
export function progressLogPath(outputPath: string): string {
  return `${outputPath.replace(/\.jsonl$/u, '')}.progress.jsonl`;
}

/** One committed unit (input-generation request) as the progress log records it. */
export interface ProgressLine {
  unit: number;
  rows: number;
  candidates: number;
  rejected: Partial<Record<RejectionReason, number>>;
  /** The unit's vote agreement counts, and the summed confidence of the rows it kept (absent in older logs). */
  labels?: AgreementStats & { keptConfidence?: number };
}

const ProgressLineSchema = lazySchema((z) =>
  z
    .object({
      unit: z.number().int().nonnegative(),
      rows: z.number().int().nonnegative(),
      candidates: z.number().int().nonnegative(),
      rejected: z.record(z.string(), z.number().int().nonnegative()),
      labels: z
        .object({
          inputs: z.number().nonnegative(),
          votes: z.number().nonnegative(),
          disagreeing: z.number().nonnegative(),
          wrongPairs: z.number().nonnegative(),
          equalWrongPairs: z.number().nonnegative(),
          samples: z.number().nonnegative(),
          keptConfidence: z.number().nonnegative().optional(),
        })
        .optional(),
    })
    .loose(),
);

/**
 * The dataset file and its progress log: one log line per committed unit, written after the unit's
 * rows, so a crash between the two leaves rows that resume drops. Resume reads the log up to its
 * first damaged line and cuts the dataset back to what the log vouches for.
 */
export class GenerationProgressLog {
  private constructor(
    private readonly dataset: JsonlWriter,
    private readonly log: JsonlWriter,
  ) {}

  /**
   * Repairs the files of an earlier run and replays them: `onRow` gets every kept row with the unit
   * that wrote it, in order; the committed log lines are returned.
   */
  static async resume(
    outputPath: string,
    onRow: (example: Example, unit: number) => void,
    warn: (message: string) => void,
  ): Promise<ProgressLine[]> {
    const logPath = progressLogPath(outputPath);
    const datasetRows = await repairJsonlTail(outputPath);
    await repairJsonlTail(logPath);
    if (!(await exists(logPath))) {
      if (datasetRows > 0) {
        throw new ValidationError({
          subject: outputPath,
          issues: [{ path: '', message: `has ${datasetRows} rows but no progress log (${logPath}), so it was not written by this generator` }],
          hint: 'Move the file away or choose another output folder; the generator only resumes its own output.',
        });
      }
      return [];
    }
    const lines: ProgressLine[] = [];
    for await (const raw of readJsonl<unknown>(logPath, { tolerateTruncatedTail: true })) {
      const parsed = ProgressLineSchema.safeParse(raw);
      // The log is read up to its first damaged or out-of-order line; later units run again.
      if (!parsed.success || parsed.data.unit !== lines.length) break;
      lines.push(parsed.data as ProgressLine);
    }
    const logRows = lines.reduce((sum, line) => sum + line.rows, 0);
    if (datasetRows < logRows) {
      // The dataset lost rows the log says were written (edited by hand?): start over. Every call
      // is in the cache, so regenerating costs nothing but time.
      warn(`${outputPath} has fewer rows than its progress log; regenerating it from the cache.`);
      await truncateJsonlRows(outputPath, 0);
      await truncateJsonlRows(logPath, 0);
      return [];
    }
    // Rows past the log's count belong to a request whose commit was cut short: it runs again.
    if (datasetRows > logRows) await truncateJsonlRows(outputPath, logRows);
    await truncateJsonlRows(logPath, lines.length);
    let unit = 0;
    let rowsInUnit = 0;
    let row = 0;
    for await (const example of readJsonl<Example>(outputPath)) {
      if (row >= logRows) break;
      while (rowsInUnit >= (lines[unit]?.rows ?? Infinity)) {
        unit++;
        rowsInUnit = 0;
      }
      onRow(example, unit);
      rowsInUnit++;
      row++;
    }
    return lines;
  }

  /** Opens both files for appending (after `resume`). */
  static async open(outputPath: string): Promise<GenerationProgressLog> {
    const dataset = await JsonlWriter.open(outputPath);
    try {
      return new GenerationProgressLog(dataset, await JsonlWriter.open(progressLogPath(outputPath)));
    } catch (error) {
      await dataset.close();
      throw error;
    }
  }

  async writeRow(example: Example): Promise<void> {
    await this.dataset.write(example);
  }

  /** Records a committed unit; call after its rows. */
  async writeLine(line: ProgressLine): Promise<void> {
    await this.log.write(line);
  }

  async close(): Promise<void> {
    await this.dataset.sync().catch(() => undefined);
    await this.dataset.close();
    await this.log.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

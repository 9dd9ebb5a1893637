import {
  canStream,
  emptyExecutionStats,
  InvalidArgumentError,
  type CascadeCalibration,
  type ExecutionStats,
  type Executor,
  type GenerationOptions,
  type Prediction,
  type StageContext,
} from '@prompt2model/core/internal';

/** Who gave a cascade's answer. */
export type CascadeSource = 'student' | 'teacher';

/** A cascade's answer: the student's when it was confident enough, else the teacher's. */
export interface CascadePrediction extends Prediction {
  answeredBy: CascadeSource;
  /** The student's confidence for this input (what the routing compared with the threshold), when it reported one. */
  studentConfidence?: number;
}

/** What a cascade has answered since it was made (every `execute` and `stream` call). */
export interface CascadeCounts {
  student: number;
  teacher: number;
  /** The teacher's calls at list price (cached ones included), and their tokens. */
  teacherCostUsd: number;
  teacherInputTokens: number;
  teacherOutputTokens: number;
}

/** Stats of one `execute` call: the whole traffic (`ExecutionStats`), who answered, and each side's own stats. */
export interface CascadeExecutionStats extends ExecutionStats {
  answeredBy: { student: number; teacher: number };
  student?: ExecutionStats;
  teacher?: ExecutionStats;
}

export interface CascadeOptions {
  /** The small model; its predictions must carry `confidence` (the ONNX executor's do). */
  student: Executor;
  /** Asked for every input the student is not sure of (e.g. a `LanguageModelExecutor` over an API model). */
  teacher: Executor;
  /**
   * The student keeps answers whose confidence is at least this; `Infinity` sends every input to
   * the teacher. Default: the calibration's chosen threshold.
   */
  threshold?: number;
  /** A calibration (`calibration.json` of a run) whose chosen threshold is used when `threshold` is not given. */
  calibration?: Pick<CascadeCalibration, 'chosen'>;
  /** Executor name (default `cascade`). */
  name?: string;
}

/**
 * The threshold a cascade uses: `threshold` when given, else the calibration's choice (`null`
 * there means no threshold kept the teacher's quality: every input goes to the teacher).
 */
export function cascadeThreshold(options: Pick<CascadeOptions, 'threshold' | 'calibration'>): number {
  if (options.threshold !== undefined) {
    if (typeof options.threshold !== 'number' || Number.isNaN(options.threshold) || options.threshold < 0) {
      throw new InvalidArgumentError({ argument: 'threshold', value: options.threshold, message: `\`threshold\` must be a confidence from 0 to 1 (or Infinity: always the teacher), got ${String(options.threshold)}.` });
    }
    return options.threshold;
  }
  if (options.calibration) return options.calibration.chosen.threshold ?? Number.POSITIVE_INFINITY;
  throw new InvalidArgumentError({
    argument: 'threshold',
    value: undefined,
    message: 'A cascade needs a `threshold` or a `calibration` to take it from.',
    hint: 'Calibrate the run first (its calibration.json has the chosen threshold), or pass a `threshold` from 0 to 1.',
  });
}

/** Whether the student keeps an answer: it reported a confidence, and it clears the threshold. */
export function studentKeeps(confidence: number | null | undefined, threshold: number): boolean {
  return typeof confidence === 'number' && confidence >= threshold;
}

/**
 * An Executor that answers with the student when its confidence clears the threshold and asks the
 * teacher otherwise: the student runs over every input, then the teacher over the rest in one
 * batched `execute` call (through the run's scheduler, LLM cache and cost ledger when the teacher
 * is a `LanguageModelExecutor`). Each answer says who gave it (`answeredBy`); `counts` keeps the
 * totals and the teacher's spending, `lastRun` the last call's.
 */
export class CascadeExecutor implements Executor {
  readonly specificationVersion = 'v1' as const;
  readonly name: string;
  readonly threshold: number;
  readonly student: Executor;
  readonly teacher: Executor;
  lastRun: CascadeExecutionStats | undefined;
  private readonly totals: CascadeCounts = { student: 0, teacher: 0, teacherCostUsd: 0, teacherInputTokens: 0, teacherOutputTokens: 0 };

  constructor(options: CascadeOptions) {
    if (!options.student || !options.teacher) {
      throw new InvalidArgumentError({ argument: options.student ? 'teacher' : 'student', value: undefined, message: 'A cascade needs a `student` and a `teacher` executor.' });
    }
    this.threshold = cascadeThreshold(options);
    this.student = options.student;
    this.teacher = options.teacher;
    this.name = options.name ?? 'cascade';
  }

  get modelId(): string {
    return `cascade(${this.student.modelId} → ${this.teacher.modelId})`;
  }

  /** Answers so far by who gave them, and the teacher's cost (a copy). */
  get counts(): CascadeCounts {
    return { ...this.totals };
  }

  async execute(inputs: string[], context: StageContext, options?: GenerationOptions): Promise<CascadePrediction[]> {
    const started = performance.now();
    const studentPredictions = await this.student.execute(inputs, context, options);
    const studentStats = this.student.lastRun;
    const routed: number[] = [];
    studentPredictions.forEach((prediction, index) => {
      if (!studentKeeps(prediction.confidence, this.threshold)) routed.push(index);
    });
    // One batched call for every input the student was not sure of.
    const teacherPredictions = routed.length > 0 ? await this.teacher.execute(routed.map((index) => inputs[index]!), context, options) : [];
    const teacherStats = routed.length > 0 ? this.teacher.lastRun : undefined;
    const answers: CascadePrediction[] = studentPredictions.map((prediction) => ({
      ...prediction,
      answeredBy: 'student' as const,
      ...(prediction.confidence !== undefined ? { studentConfidence: prediction.confidence } : {}),
    }));
    routed.forEach((index, position) => {
      const studentPrediction = studentPredictions[index]!;
      const { confidence: _teacherConfidence, ...teacherPrediction } = teacherPredictions[position] ?? { output: '', latencyMs: 0 };
      answers[index] = {
        ...teacherPrediction,
        // The caller waited for the student, then the teacher.
        latencyMs: studentPrediction.latencyMs + teacherPrediction.latencyMs,
        answeredBy: 'teacher',
        ...(studentPrediction.confidence !== undefined ? { studentConfidence: studentPrediction.confidence } : {}),
      };
    });
    this.count(inputs.length - routed.length, routed.length, teacherStats);
    this.lastRun = {
      ...sumStats(studentStats, teacherStats),
      requests: inputs.length,
      wallMs: performance.now() - started,
      answeredBy: { student: inputs.length - routed.length, teacher: routed.length },
      ...(studentStats ? { student: studentStats } : {}),
      ...(teacherStats ? { teacher: teacherStats } : {}),
    };
    return answers;
  }

  /**
   * One input, its answer's text sent to `onText`: the student's whole answer at once (its
   * confidence is known only when it is done), or the teacher's, streamed when the teacher streams.
   */
  async stream(input: string, context: StageContext, onText: (text: string) => void, options?: GenerationOptions): Promise<CascadePrediction> {
    const [studentPrediction] = await this.student.execute([input], context, options);
    const student = studentPrediction ?? { output: '', latencyMs: 0 };
    const studentConfidence = student.confidence !== undefined ? { studentConfidence: student.confidence } : {};
    if (studentKeeps(student.confidence, this.threshold)) {
      if (student.output) onText(student.output);
      this.count(1, 0, undefined);
      return { ...student, answeredBy: 'student', ...studentConfidence };
    }
    let teacher: Prediction;
    if (canStream(this.teacher)) {
      teacher = await this.teacher.stream(input, context, onText, options);
    } else {
      teacher = (await this.teacher.execute([input], context, options))[0] ?? { output: '', latencyMs: 0 };
      if (teacher.output) onText(teacher.output);
    }
    this.count(0, 1, canStream(this.teacher) ? undefined : this.teacher.lastRun);
    const { confidence: _teacherConfidence, ...rest } = teacher;
    return { ...rest, latencyMs: student.latencyMs + teacher.latencyMs, answeredBy: 'teacher', ...studentConfidence };
  }

  /** Releases both executors. */
  async dispose(): Promise<void> {
    await Promise.all([this.student.dispose?.(), this.teacher.dispose?.()]);
  }

  private count(student: number, teacher: number, teacherStats: ExecutionStats | undefined): void {
    this.totals.student += student;
    this.totals.teacher += teacher;
    if (teacherStats) {
      this.totals.teacherCostUsd += teacherStats.costUsd;
      this.totals.teacherInputTokens += teacherStats.inputTokens;
      this.totals.teacherOutputTokens += teacherStats.outputTokens;
    }
  }
}

function sumStats(...all: Array<ExecutionStats | undefined>): ExecutionStats {
  const sum = emptyExecutionStats();
  for (const stats of all) {
    if (!stats) continue;
    sum.cachedRequests += stats.cachedRequests;
    sum.inputTokens += stats.inputTokens;
    sum.outputTokens += stats.outputTokens;
    sum.costUsd += stats.costUsd;
  }
  return sum;
}

/**
 * A student→teacher cascade as a core `Executor`: `createCascade({ student, teacher, threshold })`,
 * or `{ student, teacher, calibration }` to use a run's calibrated threshold.
 */
export function createCascade(options: CascadeOptions): CascadeExecutor {
  return new CascadeExecutor(options);
}

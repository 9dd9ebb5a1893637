import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calibrationTableRows,
  CascadeCalibrationSchema,
  DatasetSplitsSchema,
  EvalReportSchema,
  GenerationSummaryFileSchema,
  ModelCandidateSchema,
  PromptSpecSchema,
  readJsonl,
  readRunFile,
  readTrainedModelSync,
  RetrievedSummarySchema,
  RUN_FILES,
  RunManifestSchema,
  writeFileAtomic,
  writeJsonAtomic,
  type CalibrationTableRow,
  type CascadeCalibration,
  type EvalReport,
  type ModelCandidate,
} from '@prompt2model/core/internal';
import { calibrationCurve, choosePrimaryMetric, exactMatchScores } from '@prompt2model/evaluator/internal';
import { formatBytes } from '@prompt2model/model-retriever/internal';
import type { RunEstimate } from './estimate.js';
import { labelAccuracy, type LabelAccuracy } from './label-accuracy.js';
import { RUN_RECORD_FILE, type RunRecord } from './recorder.js';

/** Everything `report.json` holds; report.md and report.html render the same object. */
export interface RunReport {
  version: 1;
  /** One sentence on whether the student can replace the teacher, from the task's primary metric. */
  verdict?: Verdict;
  createdAt: string;
  outDir: string;
  task: { instruction: string; language: string; taskType?: string; labels?: string[]; demonstrations: number };
  data?: {
    requested?: number;
    generated?: number;
    stoppedBy?: string;
    candidates?: number;
    rejected: Record<string, number>;
    /** Share of label votes that agreed with the kept output, by tenth: bins[0] is [0, 0.1). */
    agreementHistogram?: number[];
    /** Label noise estimated from vote agreement (the generator's `labelNoise`), when it reports one. */
    labelNoise?: { estimatedNoise: number; expectedAccuracy: number };
    /** The expected label accuracy with its Wilson 95% interval, or why it cannot be estimated. */
    labelAccuracy?: LabelAccuracy;
    /** Fields other stages add to the generation summary. */
    extra: Record<string, unknown>;
    retrieved?: { count: number; extra: Record<string, unknown> };
    splits?: { train: number; validation: number; test: number };
  };
  model?: { chosen: string; reason: string; candidates: ModelCandidate[] };
  training?: {
    reference: string;
    backend: string;
    method: string;
    baseModel: string;
    metrics: Record<string, number>;
    artifacts: Record<string, string>;
    loss: RunRecord['loss'];
    /** Why training ended (early stopping, all planned steps), or "not recorded". */
    stopReason: string;
    /** Where the model was trained (the device, the cluster, the provider's hardware), when the backend says. */
    trainedOn?: string;
    /** What the training cost (the run's ledger charge) and what it was estimated to cost, in USD. */
    costUsd: number;
    estimatedCostUsd?: number;
  };
  evaluation?: {
    student: Omit<EvalReport, 'perExample'>;
    teacher?: Omit<EvalReport, 'perExample'>;
    /** The metric the verdict and the report lead with: exact match for exact-format outputs, chrF++ for free text. */
    primaryMetric: string;
    /** A few test examples, failures first: the student's answer beside the reference and the teacher's. */
    samples: ReportSample[];
    /** Metrics left out and why (e.g. BERTScore without a local encoder). */
    notes: string[];
  };
  /** The student→teacher cascade calibrated on held-out data (calibration.json), when the run has one. */
  cascade?: {
    heldOut: { split: string; count: number };
    metric: string;
    targetQuality: number;
    teacher: { model: string; quality: number };
    student: { model: string; quality: number };
    chosen: CascadeCalibration['chosen'];
    costPer1000: CascadeCalibration['costPer1000'];
    /** A few points of the curve, the chosen one among them (calibration.json has every point). */
    curve: CalibrationTableRow[];
    /** Thresholds on the whole curve. */
    thresholds: number;
    /**
     * The chosen threshold on the test set, which did not take part in the choice: the share the
     * student answers and the cascade's quality there (from the evaluation's answers and confidences).
     */
    test?: { count: number; coverage: number; quality: number; relativeQuality?: number };
  };
  cost: {
    byStage: Array<{ stage: string; usd: number; paidCalls: number; cachedCalls: number; inputTokens: number; outputTokens: number; estimateUsd?: number }>;
    totalUsd: number;
    estimateUsd?: number;
    maxCostUsd?: number;
  };
  stages: Record<string, { status: string; note?: string }>;
}

export interface Verdict {
  level: 'matches' | 'gap' | 'unusable' | 'unknown';
  text: string;
  metric: string;
  student: number;
  teacher?: number;
}

export interface ReportSample {
  input?: string;
  reference: string;
  student: string;
  teacher?: string;
  /** Whether the student's answer matches the reference exactly (after the usual normalisation). */
  exact: boolean;
}

/**
 * When a student is good enough, on the primary metric: its ratio to the teacher's score, and an
 * absolute floor below which it is not usable whatever the teacher scored.
 */
export const VERDICT_THRESHOLDS = {
  /** student / teacher at or above this: the student matches the teacher. */
  matchesRatio: 0.95,
  /** student / teacher at or above this: usable with a gap; below it, not usable. */
  usableRatio: 0.8,
  /** Absolute floors: exact match in [0,1], chrF++ on 0-100. */
  floor: { exact_match: 0.5, chrf: 40 } as Record<string, number>,
} as const;

/** Test-set rows shown in the report. */
export const SAMPLE_ROWS = 5;

export { choosePrimaryMetric };

const percent = (value: number) => `${(value * 100).toFixed(value > 0 && value < 0.01 ? 1 : 0)}%`;

/** The primary metric as people read it: exact match as a percentage, chrF++ on 0-100. */
export function metricText(name: string, value: number): string {
  return name === 'exact_match' ? `exact match ${percent(value)}` : `${name.startsWith('chrf') ? 'chrF++' : name} ${value.toFixed(1)}`;
}

/** The verdict from the primary metric of the student and (when evaluated) the teacher. */
export function judge(metric: string, student: number, teacher: number | undefined): Verdict {
  const floor = VERDICT_THRESHOLDS.floor[metric.startsWith('chrf') ? 'chrf' : metric];
  const base = { metric, student, ...(teacher !== undefined ? { teacher } : {}) };
  const scores = `${metricText(metric, student)}${teacher !== undefined ? ` vs the teacher's ${metricText(metric, teacher).replace(/^exact match /, '')}` : ''}`;
  if (floor !== undefined && student < floor) {
    return { ...base, level: 'unusable', text: `The student is not usable: ${scores} (below the floor of ${metricText(metric, floor)}).` };
  }
  if (teacher === undefined || teacher <= 0) {
    return { ...base, level: 'unknown', text: `No verdict against the teacher (${teacher === undefined ? 'the teacher was not evaluated' : 'the teacher scored 0'}): the student has ${metricText(metric, student)}.` };
  }
  const ratio = student / teacher;
  if (ratio >= VERDICT_THRESHOLDS.matchesRatio) return { ...base, level: 'matches', text: `The student matches the teacher: ${scores}.` };
  if (ratio >= VERDICT_THRESHOLDS.usableRatio) return { ...base, level: 'gap', text: `The student is usable with a gap: ${scores} (${(ratio * 100).toFixed(0)}% of the teacher).` };
  return { ...base, level: 'unusable', text: `The student is not usable: ${scores} (${(ratio * 100).toFixed(0)}% of the teacher).` };
}

/** Why training ended, from the metrics the worker records (global_step, max_steps, stopped_early, epoch). */
export function stopReason(metrics: Record<string, number>): string {
  const { global_step: step, max_steps: max, stopped_early: early, epoch } = metrics;
  const epochs = epoch !== undefined ? `, epoch ${epoch.toFixed(2)}` : '';
  if (early === 1) return `early stopping: the validation loss stopped improving at step ${step ?? '?'}${max !== undefined ? ` of ${max} planned` : ''}${epochs}`;
  if (step !== undefined && max !== undefined && step >= max) return `all planned steps ran (${step} of ${max}${epochs})`;
  if (step !== undefined && max !== undefined) return `stopped at step ${step} of ${max}${epochs} (reason not recorded)`;
  return 'not recorded';
}

type PerExample = NonNullable<EvalReport['perExample']>;
const firstReference = (reference: string | string[]) => (Array.isArray(reference) ? (reference[0] ?? '') : reference);

/** Exact match over a per-example list, when the evaluator did not compute it. */
function exactMatchOf(rows: PerExample | undefined): number[] | undefined {
  if (!rows?.length) return undefined;
  return exactMatchScores(
    rows.map((row) => row.prediction),
    rows.map((row) => row.reference),
  );
}

export const REPORT_FILES = { json: RUN_FILES.reportJson, markdown: RUN_FILES.reportMarkdown, html: RUN_FILES.reportHtml } as const;
export const ESTIMATE_FILE = RUN_FILES.runEstimate;

async function readJson<T>(dir: string, name: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, name), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Maps estimate stage names onto the stage names usage events carry. */
function estimateStage(name: string): string {
  return name.startsWith('generate') ? 'generate' : name.startsWith('retrieve-models') ? 'retrieve-models' : name;
}

/** Reads a run folder's artifacts into a RunReport (any subset: a `--no-train` run has no training). */
export async function buildRunReport(outDir: string, options: { maxCostUsd?: number; baseModelGiven?: boolean; notes?: string[] } = {}): Promise<RunReport> {
  // Each file read with the schema core keeps for it; a damaged one leaves its part out of the report.
  const read = <T>(name: string, schema: Parameters<typeof readRunFile<T>>[2]) => readRunFile(outDir, name, schema).catch(() => undefined);
  const spec = await read(RUN_FILES.promptSpec, PromptSpecSchema);
  const manifest = await read(RUN_FILES.manifest, RunManifestSchema);
  const summary = await read(RUN_FILES.generationSummary, GenerationSummaryFileSchema);
  const retrievedSummary = await read(RUN_FILES.retrievedSummary, RetrievedSummarySchema);
  const splits = await read(RUN_FILES.splits, DatasetSplitsSchema);
  const candidates = await read(RUN_FILES.models, ModelCandidateSchema.array());
  const trained = (() => {
    try {
      return readTrainedModelSync(outDir);
    } catch {
      return undefined;
    }
  })();
  const student = await read(RUN_FILES.evalReport, EvalReportSchema);
  const teacher = await read(RUN_FILES.teacherEvalReport, EvalReportSchema);
  const record = (await readJson<RunRecord>(outDir, RUN_RECORD_FILE)) ?? { spending: {}, loss: [] };
  const estimate = await readJson<RunEstimate>(outDir, ESTIMATE_FILE);

  const report: RunReport = {
    version: 1,
    createdAt: new Date().toISOString(),
    outDir,
    task: {
      instruction: spec?.instruction ?? '',
      language: spec?.language ?? 'und',
      ...(spec?.taskType ? { taskType: spec.taskType } : {}),
      ...(spec?.labels?.length ? { labels: spec.labels } : {}),
      demonstrations: spec?.examples.length ?? 0,
    },
    cost: { byStage: [], totalUsd: manifest?.cost?.usd ?? 0 },
    stages: Object.fromEntries(Object.entries(manifest?.stages ?? {}).map(([name, stage]) => [name, { status: stage.status, ...(stage.note ? { note: stage.note } : {}) }])),
  };

  if (summary || retrievedSummary || splits) {
    const known = new Set(['count', 'accepted', 'target', 'stoppedBy', 'candidates', 'rejected', 'resumedRows', 'generationRequests', 'teacher', 'calls', 'tokens', 'costUsd', 'totalCostUsd', 'labelNoise']);
    const noise = summary?.labelNoise as { estimatedNoise?: unknown; expectedAccuracy?: unknown } | undefined;
    report.data = {
      ...(typeof summary?.target === 'number' ? { requested: summary.target } : {}),
      ...(typeof summary?.count === 'number' ? { generated: summary.count } : {}),
      ...(typeof summary?.stoppedBy === 'string' ? { stoppedBy: summary.stoppedBy } : {}),
      ...(typeof summary?.candidates === 'number' ? { candidates: summary.candidates } : {}),
      rejected: numericRecord(summary?.rejected),
      ...(typeof noise?.estimatedNoise === 'number' && typeof noise.expectedAccuracy === 'number'
        ? { labelNoise: { estimatedNoise: noise.estimatedNoise, expectedAccuracy: noise.expectedAccuracy } }
        : {}),
      ...(typeof noise?.expectedAccuracy === 'number' ? { labelAccuracy: labelAccuracy({ ...noise, expectedAccuracy: noise.expectedAccuracy }) } : {}),
      extra: Object.fromEntries(Object.entries(summary ?? {}).filter(([key]) => !known.has(key))),
      ...(retrievedSummary ? { retrieved: { count: Number(retrievedSummary.count ?? 0), extra: Object.fromEntries(Object.entries(retrievedSummary).filter(([key]) => key !== 'count')) } } : {}),
      ...(splits ? { splits: splits.counts } : {}),
    };
    if (summary) {
      const histogram = await agreementHistogram(join(outDir, RUN_FILES.dataset));
      if (histogram) report.data.agreementHistogram = histogram;
    }
  }

  if (trained) {
    const top = candidates?.[0];
    const reason = options.baseModelGiven
      ? 'given with --base-model'
      : top && top.id === trained.baseModel
        ? `the best-ranked of ${candidates!.length} candidates that passed the size, architecture and license filters (score ${top.score.toFixed(2)}: BM25 card relevance, popularity breaking ties${top.sizeBytes ? `, ${formatBytes(top.sizeBytes)}` : ''})`
        : 'chosen by the training settings';
    report.model = { chosen: trained.baseModel, reason, candidates: candidates ?? [] };
    report.training = {
      reference: trained.reference,
      backend: trained.backend,
      method: trained.method,
      baseModel: trained.baseModel,
      metrics: trained.metrics ?? {},
      artifacts: Object.fromEntries(Object.entries(trained.artifacts ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
      loss: record.loss,
      stopReason: stopReason(trained.metrics ?? {}),
      ...(trained.trainedOn ? { trainedOn: trained.trainedOn } : {}),
      costUsd: trained.metrics?.costUsd ?? 0,
      ...(trained.metrics?.estimatedCostUsd !== undefined ? { estimatedCostUsd: trained.metrics.estimatedCostUsd } : {}),
    };
  } else if (candidates?.length) {
    report.model = { chosen: candidates[0]!.id, reason: `the best-ranked of ${candidates.length} candidates (not trained in this run)`, candidates };
  }

  if (student) {
    const { perExample: _s, ...studentReport } = student;
    const teacherReport = teacher ? (({ perExample: _t, ...rest }) => rest)(teacher) : undefined;
    // Exact match is always shown when it can be scored: from the evaluator, or here from the answers.
    const studentExact = exactMatchOf(student.perExample);
    const teacherExact = exactMatchOf(teacher?.perExample);
    const mean = (scores: number[]) => scores.reduce((sum, score) => sum + score, 0) / scores.length;
    if (studentReport.metrics.exact_match === undefined && studentExact) studentReport.metrics = { exact_match: mean(studentExact), ...studentReport.metrics };
    if (teacherReport && teacherReport.metrics.exact_match === undefined && teacherExact) teacherReport.metrics = { exact_match: mean(teacherExact), ...teacherReport.metrics };
    const references = (student.perExample ?? []).map((row) => firstReference(row.reference));
    const primaryMetric = choosePrimaryMetric(spec?.taskType ?? student.taskType, references, studentReport.metrics);
    const samples: ReportSample[] = (student.perExample ?? []).map((row, index) => {
      const teacherRow = teacher?.perExample?.[index];
      return {
        ...(row.input !== undefined ? { input: row.input } : {}),
        reference: firstReference(row.reference),
        student: row.prediction,
        ...(teacherRow ? { teacher: teacherRow.prediction } : {}),
        exact: (studentExact?.[index] ?? 0) === 1,
      };
    });
    // Failures first (stable, so the test set's order decides among equals).
    samples.sort((a, b) => Number(a.exact) - Number(b.exact));
    report.evaluation = {
      student: studentReport,
      ...(teacherReport ? { teacher: teacherReport } : {}),
      primaryMetric,
      samples: samples.slice(0, SAMPLE_ROWS),
      notes: options.notes ?? [],
    };
    const studentScore = studentReport.metrics[primaryMetric];
    if (studentScore !== undefined) report.verdict = judge(primaryMetric, studentScore, teacherReport?.metrics[primaryMetric]);
  }

  const calibration = await read(RUN_FILES.calibration, CascadeCalibrationSchema);
  if (calibration) {
    report.cascade = cascadeSummary(calibration);
    const test = await cascadeOnTestSet(calibration, student, teacher);
    if (test) report.cascade.test = test;
  }

  const estimateByStage = new Map<string, number>();
  for (const stage of estimate?.stages ?? []) estimateByStage.set(estimateStage(stage.stage), (estimateByStage.get(estimateStage(stage.stage)) ?? 0) + stage.usd);
  const stageNames = new Set([...Object.keys(record.spending), ...estimateByStage.keys()]);
  for (const stage of stageNames) {
    const spent = record.spending[stage] ?? { usd: 0, paidCalls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0 };
    report.cost.byStage.push({ stage, ...spent, ...(estimateByStage.has(stage) ? { estimateUsd: estimateByStage.get(stage)! } : {}) });
  }
  const teacherSpent = Object.values(record.spending).reduce((sum, stage) => sum + stage.usd, 0);
  const trainingSpent = Math.max(0, report.cost.totalUsd - teacherSpent);
  if (trainingSpent > 1e-9 || estimate?.training) {
    report.cost.byStage.push({ stage: 'train', usd: trainingSpent, paidCalls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, ...(estimate?.training ? { estimateUsd: estimate.training.usd } : {}) });
  }
  if (estimate) report.cost.estimateUsd = estimate.totalUsd;
  const maxCost = options.maxCostUsd ?? estimate?.maxCostUsd;
  if (maxCost !== undefined) report.cost.maxCostUsd = maxCost;
  return report;
}

/** The report's cascade section from a calibration: its figures and a few points of the curve. */
export function cascadeSummary(calibration: CascadeCalibration): NonNullable<RunReport['cascade']> {
  return {
    heldOut: { split: calibration.heldOut.split, count: calibration.heldOut.count },
    metric: calibration.metric,
    targetQuality: calibration.targetQuality,
    teacher: { model: calibration.teacher.model, quality: calibration.teacher.quality },
    student: { model: calibration.student.model, quality: calibration.student.quality },
    chosen: calibration.chosen,
    costPer1000: calibration.costPer1000,
    curve: calibrationTableRows(calibration),
    thresholds: calibration.curve.length,
  };
}

/**
 * The calibrated threshold applied to the test set: the student's answers and confidences from
 * the evaluation, the teacher's from its baseline on the same rows. Undefined when either is
 * missing (an evaluation without per-example rows or confidences) or no threshold was chosen.
 */
async function cascadeOnTestSet(calibration: CascadeCalibration, student: EvalReport | undefined, teacher: EvalReport | undefined): Promise<NonNullable<RunReport['cascade']>['test']> {
  const threshold = calibration.chosen.threshold;
  const studentRows = student?.perExample;
  const teacherRows = teacher?.perExample;
  if (threshold === null || !studentRows?.length || !teacherRows || teacherRows.length !== studentRows.length) return undefined;
  if (!studentRows.every((row) => typeof row.confidence === 'number')) return undefined;
  const rows = studentRows.map((row, index) => ({
    input: row.input ?? '',
    reference: row.reference,
    student: row.prediction,
    teacher: teacherRows[index]!.prediction,
    confidence: row.confidence as number,
  }));
  try {
    const curve = await calibrationCurve(rows, { metric: calibration.metric, thresholds: [threshold], targetQuality: calibration.targetQuality });
    const point = curve.curve[0]!;
    return { count: rows.length, coverage: point.coverage, quality: point.quality, ...(point.relativeQuality !== undefined ? { relativeQuality: point.relativeQuality } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Writes the report of a run folder again from its artifacts (after a later step such as
 * `prompt2model calibrate`), keeping what only the first report knew: its notes, why the base
 * model was chosen, the budget cap.
 */
export async function rebuildRunReport(outDir: string): Promise<{ json: string; markdown: string; html: string }> {
  const previous = await readJson<RunReport>(outDir, REPORT_FILES.json);
  const report = await buildRunReport(outDir, {
    ...(previous?.cost?.maxCostUsd !== undefined ? { maxCostUsd: previous.cost.maxCostUsd } : {}),
    baseModelGiven: previous?.model?.reason === 'given with --base-model',
    notes: previous?.evaluation?.notes ?? [],
  });
  return writeRunReport(outDir, report);
}

function numericRecord(value: unknown): Record<string, number> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] > 0));
}

async function agreementHistogram(path: string): Promise<number[] | undefined> {
  const bins = Array.from({ length: 10 }, () => 0);
  let any = false;
  try {
    for await (const row of readJsonl<{ meta?: { agreement?: unknown } }>(path, { tolerateTruncatedTail: true })) {
      const agreement = row.meta?.agreement;
      if (typeof agreement !== 'number') continue;
      any = true;
      bins[Math.min(9, Math.max(0, Math.floor(agreement * 10)))]!++;
    }
  } catch {
    return undefined;
  }
  return any ? bins : undefined;
}

/** Writes report.json, report.md and report.html into the run folder; returns their paths. */
export async function writeRunReport(outDir: string, report: RunReport): Promise<{ json: string; markdown: string; html: string }> {
  const { renderReportMarkdown } = await import('./report-markdown.js');
  const { renderReportHtml } = await import('./report-html.js');
  const paths = { json: join(outDir, REPORT_FILES.json), markdown: join(outDir, REPORT_FILES.markdown), html: join(outDir, REPORT_FILES.html) };
  await writeJsonAtomic(paths.json, report);
  await writeFileAtomic(paths.markdown, renderReportMarkdown(report));
  await writeFileAtomic(paths.html, renderReportHtml(report));
  return paths;
}

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
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
  type EvalReport,
  type ModelCandidate,
} from '@prompt2model/core/internal';
import { formatBytes } from '@prompt2model/model-retriever/internal';
import type { RunEstimate } from './estimate.js';
import { RUN_RECORD_FILE, type RunRecord } from './recorder.js';

/** Everything `report.json` holds; report.md and report.html render the same object. */
export interface RunReport {
  version: 1;
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
  };
  evaluation?: {
    student: Omit<EvalReport, 'perExample'>;
    teacher?: Omit<EvalReport, 'perExample'>;
    /** Metrics left out and why (e.g. BERTScore without a local encoder). */
    notes: string[];
  };
  cost: {
    byStage: Array<{ stage: string; usd: number; paidCalls: number; cachedCalls: number; inputTokens: number; outputTokens: number; estimateUsd?: number }>;
    totalUsd: number;
    estimateUsd?: number;
    maxCostUsd?: number;
  };
  stages: Record<string, { status: string; note?: string }>;
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
    };
  } else if (candidates?.length) {
    report.model = { chosen: candidates[0]!.id, reason: `the best-ranked of ${candidates.length} candidates (not trained in this run)`, candidates };
  }

  if (student) {
    const { perExample: _s, ...studentReport } = student;
    const teacherReport = teacher ? (({ perExample: _t, ...rest }) => rest)(teacher) : undefined;
    report.evaluation = { student: studentReport, ...(teacherReport ? { teacher: teacherReport } : {}), notes: options.notes ?? [] };
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

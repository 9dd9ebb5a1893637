import type { EvalReport, Example, Executor, StageContext, TaskType } from '@prompt2model/core/internal';
import { scorePredictions } from './evaluator.js';
import type { ExecutionStats } from './executors/run-stats.js';
import { chooseMetrics, type ComputeMetricsOptions, type MetricName } from './metrics/compute.js';

export interface CompareOptions {
  teacher: Executor;
  student: Executor;
  examples: readonly Pick<Example, 'input' | 'output'>[];
  metrics?: readonly MetricName[];
  taskType?: TaskType;
  metricOptions?: ComputeMetricsOptions;
  perExample?: boolean;
}

export interface TeacherStudentComparison {
  teacher: EvalReport;
  student: EvalReport;
  /** A Markdown table: metrics, latency per example and cost per 1,000 requests, side by side. */
  markdown: string;
}

function statsOf(executor: Executor): ExecutionStats | undefined {
  const stats = executor.lastRun;
  return stats && typeof stats.requests === 'number' ? stats : undefined;
}

function formatMetric(name: string, value: number | undefined): string {
  if (value === undefined) return '–';
  return name.startsWith('chrf') ? value.toFixed(2) : value.toFixed(4);
}

function formatDelta(name: string, teacher: number | undefined, student: number | undefined): string {
  if (teacher === undefined || student === undefined) return '–';
  const delta = student - teacher;
  const text = formatMetric(name, Math.abs(delta));
  return `${delta >= 0 ? '+' : '−'}${text}`;
}

/** Renders two reports as a Markdown table. */
export function comparisonMarkdown(teacher: EvalReport, student: EvalReport): string {
  const names = [...new Set([...Object.keys(teacher.metrics), ...Object.keys(student.metrics)])];
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `| | teacher (${escape(teacher.model ?? '?')}) | student (${escape(student.model ?? '?')}) | student − teacher |`,
    '|---|---:|---:|---:|',
    ...names.map(
      (name) =>
        `| ${name} | ${formatMetric(name, teacher.metrics[name])} | ${formatMetric(name, student.metrics[name])} | ${formatDelta(name, teacher.metrics[name], student.metrics[name])} |`,
    ),
    `| latency per example (ms) | ${teacher.latencyMsPerExample?.toFixed(1) ?? '–'} | ${student.latencyMsPerExample?.toFixed(1) ?? '–'} | |`,
    `| cost per 1,000 requests (USD) | ${teacher.costPer1000Usd?.toFixed(4) ?? '–'} | ${student.costPer1000Usd?.toFixed(4) ?? '–'} | |`,
    `| examples | ${teacher.count} | ${student.count} | |`,
  ];
  return `${lines.join('\n')}\n\nCost counts API list prices (cached calls at full price); local models are priced at 0 (their compute is not counted).\n`;
}

/**
 * Runs the same test set through the teacher and the student, scores both with the same metrics,
 * and puts metrics, latency per example and cost per 1,000 requests side by side. The teacher
 * runs first; both go through the run's context (scheduler, cache, ledger, progress).
 */
export async function compareTeacherStudent(options: CompareOptions, context: StageContext): Promise<TeacherStudentComparison> {
  const metrics = options.metrics ?? chooseMetrics(options.taskType);
  const inputs = options.examples.map((example) => example.input);
  const reports: EvalReport[] = [];
  for (const executor of [options.teacher, options.student]) {
    const predictions = await executor.execute(inputs, context);
    const stats = statsOf(executor);
    reports.push(
      await scorePredictions(options.examples, predictions, executor.modelId, {
        metrics,
        ...(options.metricOptions ? { metricOptions: options.metricOptions } : {}),
        ...(options.taskType ? { taskType: options.taskType } : {}),
        ...(options.perExample !== undefined ? { perExample: options.perExample } : {}),
        // Local executors report cost 0; keep the column meaningful for them too.
        stats: stats ?? { requests: predictions.length, cachedRequests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, wallMs: 0 },
      }),
    );
  }
  const [teacher, student] = reports as [EvalReport, EvalReport];
  return { teacher, student, markdown: comparisonMarkdown(teacher, student) };
}

import { labelAccuracyText } from './label-accuracy.js';
import type { CascadeCalibration } from '@prompt2model/core/internal';
import { cascadeSummary, type RunReport } from './report.js';

export function formatMetric(name: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return name.startsWith('chrf') ? value.toFixed(2) : value.toFixed(4);
}

export function usd(value: number | undefined, digits = 4): string {
  return value === undefined ? '–' : `$${value.toFixed(digits)}`;
}

/** Rows of the teacher-vs-student table: [label, teacher, student]. */
export function comparisonRows(report: RunReport): Array<[string, string, string]> {
  const evaluation = report.evaluation;
  if (!evaluation) return [];
  const { student, teacher } = evaluation;
  // The primary metric leads, exact match next, then the rest.
  const lead = [evaluation.primaryMetric, 'exact_match'];
  const names = [...new Set([...lead, ...Object.keys(student.metrics), ...Object.keys(teacher?.metrics ?? {})])].filter(
    (name) => student.metrics[name] !== undefined || teacher?.metrics[name] !== undefined,
  );
  return [
    ...names.map((name): [string, string, string] => [name === evaluation.primaryMetric ? `${name} (primary)` : name, formatMetric(name, teacher?.metrics[name]), formatMetric(name, student.metrics[name])]),
    ['latency per example (ms)', teacher?.latencyMsPerExample?.toFixed(1) ?? '–', student.latencyMsPerExample?.toFixed(1) ?? '–'],
    ['$ per 1,000 calls', usd(teacher?.costPer1000Usd), usd(student.costPer1000Usd ?? 0)],
    ['test examples', String(teacher?.count ?? '–'), String(student.count)],
  ];
}

const share = (value: number) => `${(value * 100).toFixed(0)}%`;

/** Rows of the cascade's coverage-quality table: [threshold, share the student answers, quality, share of the teacher's]. */
export function cascadeRows(cascade: NonNullable<RunReport['cascade']>): Array<[string, string, string, string]> {
  return [
    ...cascade.curve.map((row): [string, string, string, string] => [
      `${row.threshold.toFixed(4)}${row.chosen ? ' (chosen)' : ''}`,
      share(row.coverage),
      formatMetric(cascade.metric, row.quality),
      row.relativeQuality === undefined ? '–' : share(row.relativeQuality),
    ]),
    ['teacher only', '0%', formatMetric(cascade.metric, cascade.teacher.quality), '100%'],
  ];
}

/** What the cascade's figures mean, as sentences: where they come from, the chosen threshold, the test-set check, the cost per 1,000 calls. */
export function cascadeSentences(cascade: NonNullable<RunReport['cascade']>): { about: string; chosen: string; test?: string; cost: string } {
  const { chosen, costPer1000: cost } = cascade;
  const ofTeacher = (quality: number, relative: number | undefined) => (relative === undefined ? formatMetric(cascade.metric, quality) : `${share(relative)} of the teacher's quality`);
  return {
    about: `The student answers when its confidence (exp of its mean token log-probability) is at least the threshold, and the teacher (${cascade.teacher.model}) answers the rest. Measured on ${cascade.heldOut.count} ${cascade.heldOut.split} examples the student was not trained on (${cascade.metric}: teacher ${formatMetric(cascade.metric, cascade.teacher.quality)}, student alone ${formatMetric(cascade.metric, cascade.student.quality)}; ${cascade.thresholds} thresholds tried, calibration.json has them all).`,
    chosen:
      chosen.threshold === null
        ? `No threshold keeps ${share(cascade.targetQuality)} of the teacher's quality: the cascade sends every call to the teacher.`
        : `Chosen threshold ${chosen.threshold.toFixed(4)}: the student answers ${share(chosen.coverage)} of calls at ${ofTeacher(chosen.quality, chosen.relativeQuality)} (target ${share(cascade.targetQuality)}).`,
    ...(cascade.test
      ? { test: `On the ${cascade.test.count} test examples, which took no part in the choice, the same threshold lets the student answer ${share(cascade.test.coverage)} of calls at ${ofTeacher(cascade.test.quality, cascade.test.relativeQuality)}.` }
      : {}),
    cost: `Expected cost per 1,000 calls${cost.priced ? '' : ' (the teacher has no known price: counted as $0)'}: teacher only ${usd(cost.teacherOnlyUsd)}, student only ${usd(cost.studentOnlyUsd)}${cost.studentOnlyUsd > 0 ? '' : ' (local compute not priced)'}, cascade ${usd(cost.cascadeUsd)} (the teacher's measured cost × the ${share(1 - chosen.coverage)} of calls sent to it).`,
  };
}

/** A calibration for the terminal: the chosen threshold, the cost per 1,000 calls, the short curve. */
export function describeCalibration(calibration: CascadeCalibration): string[] {
  const cascade = cascadeSummary(calibration);
  const sentences = cascadeSentences(cascade);
  const rows = cascadeRows(cascade);
  const widths = [0, 1, 2, 3].map((column) => Math.max(...[['threshold', 'student answers', cascade.metric, "of the teacher's"], ...rows].map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`;
  return [
    `Cascade calibrated on ${cascade.heldOut.count} ${cascade.heldOut.split} examples (${cascade.metric}: teacher ${formatMetric(cascade.metric, cascade.teacher.quality)}, student ${formatMetric(cascade.metric, cascade.student.quality)}):`,
    line(['threshold', 'student answers', cascade.metric, "of the teacher's"]),
    ...rows.map(line),
    sentences.chosen,
    ...(sentences.test ? [sentences.test] : []),
    sentences.cost,
  ];
}

/** Label and value of the fields other stages add (label-noise estimate, retrieved sources, ...). */
export function extraFields(extra: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(extra)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => [key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(), typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(4)) : typeof value === 'string' ? value : JSON.stringify(value)]);
}

/** The label-noise estimate as one sentence. */
export function labelNoiseText(data: NonNullable<RunReport['data']>): string {
  const noise = data.labelNoise!;
  const accuracy = data.labelAccuracy ?? { unknown: 'cannot be estimated' };
  return `Label noise (estimated from vote agreement): ${(noise.estimatedNoise * 100).toFixed(1)}% of label samples; ${labelAccuracyText(accuracy)}; errors the teacher repeats every time are not counted.`;
}

/** A table cell that renders as text, in Markdown and in the HTML a Markdown viewer makes of it. */
export function clip(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
const markdownCell = (text: string) =>
  clip(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([\\`*_[\]|])/g, '\\$1') || ' ';

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** report.md: the same content as the HTML page, as Markdown tables. */
export function renderReportMarkdown(report: RunReport): string {
  const lines: string[] = [`# prompt2model run report`, ''];
  if (report.verdict) lines.push(`**${report.verdict.text}**`, '');
  lines.push(`Task: ${report.task.instruction}`, '');
  lines.push(`Language \`${report.task.language}\`${report.task.taskType ? `, task type ${report.task.taskType}` : ''}${report.task.labels ? ` (labels: ${report.task.labels.join(', ')})` : ''}, ${report.task.demonstrations} demonstrations in the prompt.`, '');
  const data = report.data;
  if (data) {
    lines.push('## Data', '');
    if (data.generated !== undefined) lines.push(`- Generated: ${data.generated}${data.requested !== undefined ? ` of ${data.requested} requested` : ''}${data.stoppedBy && data.stoppedBy !== 'target' ? ` (stopped: ${data.stoppedBy})` : ''}; ${data.candidates ?? '?'} candidates seen.`);
    if (data.retrieved) lines.push(`- Retrieved from datasets: ${data.retrieved.count}.`);
    if (data.splits) lines.push(`- Splits: ${data.splits.train} train, ${data.splits.validation} validation, ${data.splits.test} test.`);
    if (data.labelNoise) lines.push(`- ${labelNoiseText(data)}`);
    for (const [label, value] of extraFields(data.extra)) lines.push(`- ${label}: ${value}`);
    for (const [label, value] of extraFields(data.retrieved?.extra ?? {})) lines.push(`- retrieved ${label}: ${value}`);
    const rejected = Object.entries(data.rejected).sort((a, b) => b[1] - a[1]);
    if (rejected.length > 0) lines.push('', '| rejected because | count |', '|---|---:|', ...rejected.map(([reason, count]) => `| ${reason} | ${count} |`));
    if (data.agreementHistogram) {
      lines.push('', '| vote agreement | examples |', '|---|---:|');
      data.agreementHistogram.forEach((count, index) => count > 0 && lines.push(`| ${(index / 10).toFixed(1)}–${((index + 1) / 10).toFixed(1)} | ${count} |`));
    }
    lines.push('');
  }
  if (report.model) {
    lines.push('## Base model', '', `**${report.model.chosen}**: ${report.model.reason}.`, '');
    if (report.model.candidates.length > 0) {
      lines.push('| candidate | score | size | downloads | architecture |', '|---|---:|---:|---:|---|');
      for (const candidate of report.model.candidates) lines.push(`| ${escape(candidate.id)} | ${candidate.score.toFixed(2)} | ${candidate.sizeBytes ?? '–'} | ${candidate.downloads ?? '–'} | ${candidate.architecture} |`);
      lines.push('');
    }
  }
  if (report.training) {
    const t = report.training;
    lines.push('## Training', '', `${t.method} on ${t.baseModel} with the ${t.backend} backend → \`${t.reference}\`.`);
    const last = t.loss.at(-1);
    if (last) lines.push(`Loss ${t.loss[0]!.loss.toFixed(4)} at step ${t.loss[0]!.step} → ${last.loss.toFixed(4)} at step ${last.step} (${t.loss.length} points; the curve is in report.html).`);
    lines.push(`Training ended: ${t.stopReason}.`);
    lines.push(`Trained on ${t.trainedOn ?? 'a machine the backend did not name'}; it cost ${usd(t.costUsd)}${t.estimatedCostUsd !== undefined ? ` (estimated ${usd(t.estimatedCostUsd)})` : ''}.`);
    for (const [name, value] of Object.entries(t.artifacts)) lines.push(`- ${name}: \`${value}\``);
    lines.push('');
  }
  if (report.evaluation) {
    lines.push('## Evaluation: teacher vs student on the same test set', '', '| | teacher | student |', '|---|---:|---:|', ...comparisonRows(report).map(([label, teacher, student]) => `| ${label} | ${teacher} | ${student} |`), '');
    const samples = report.evaluation.samples;
    if (samples.length > 0) {
      lines.push(`Sample of the test set (${samples.length} rows, failures first):`, '', '| input | reference | student | teacher | exact |', '|---|---|---|---|---|');
      for (const row of samples) lines.push(`| ${markdownCell(row.input ?? '')} | ${markdownCell(row.reference)} | ${markdownCell(row.student)} | ${markdownCell(row.teacher ?? '–')} | ${row.exact ? 'yes' : 'no'} |`);
      lines.push('');
    }
    for (const note of report.evaluation.notes) lines.push(`- ${note}`);
    lines.push('Cost per 1,000 calls counts API list prices; a local student is priced at $0 (its compute is not counted).', '');
  }
  if (report.cascade) {
    const { about, chosen, test, cost } = cascadeSentences(report.cascade);
    lines.push('## Cascade: student first, teacher when unsure', '', about, '', '| threshold | student answers | quality | of the teacher\'s |', '|---:|---:|---:|---:|');
    for (const row of cascadeRows(report.cascade)) lines.push(`| ${row.join(' | ')} |`);
    lines.push('', chosen, '', ...(test ? [test, ''] : []), cost, '');
  }
  lines.push('## Cost by stage', '', '| stage | spent | estimate | paid calls | cached calls |', '|---|---:|---:|---:|---:|');
  for (const stage of report.cost.byStage) lines.push(`| ${stage.stage} | ${usd(stage.usd)} | ${usd(stage.estimateUsd)} | ${stage.paidCalls} | ${stage.cachedCalls} |`);
  lines.push(`| **total** | **${usd(report.cost.totalUsd)}** | ${usd(report.cost.estimateUsd)} | | |`, '');
  if (report.cost.maxCostUsd !== undefined) lines.push(`Budget cap (--max-cost): ${usd(report.cost.maxCostUsd)}.`, '');
  const partial = Object.entries(report.stages).filter(([, stage]) => stage.status !== 'done');
  if (partial.length > 0) lines.push('## Unfinished steps', '', ...partial.map(([name, stage]) => `- ${name}: ${stage.status}${stage.note ? ` (${stage.note})` : ''}`), '');
  return `${lines.join('\n')}\n`;
}

import type { RunReport } from './report.js';
import { metricText } from './report.js';
import { labelAccuracyText } from './label-accuracy.js';
import { cascadeRows, cascadeSentences, clip, comparisonRows, extraFields, usd } from './report-markdown.js';

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars: one row per label. */
function barChart(rows: Array<{ label: string; value: number; second?: number }>, options: { title: string; format?: (v: number) => string; legend?: [string, string] }): string {
  if (rows.length === 0) return '';
  const format = options.format ?? ((v: number) => String(v));
  const width = 720;
  const labelWidth = 150;
  const rowHeight = options.legend ? 30 : 22;
  const max = Math.max(...rows.flatMap((row) => [row.value, row.second ?? 0]), 1e-12);
  const top = options.legend ? 26 : 8;
  const height = top + rows.length * rowHeight + 8;
  const scale = (value: number) => ((width - labelWidth - 190) * value) / max;
  const bars = rows
    .map((row, index) => {
      const y = top + index * rowHeight;
      const first = `<rect x="${labelWidth}" y="${y}" width="${scale(row.value).toFixed(1)}" height="${options.legend ? 11 : 15}" fill="#3b6fd8"><title>${esc(row.label)}: ${esc(format(row.value))}</title></rect>`;
      const second =
        row.second !== undefined
          ? `<rect x="${labelWidth}" y="${y + 13}" width="${scale(row.second).toFixed(1)}" height="11" fill="#c9d3e6"><title>${esc(row.label)} estimate: ${esc(format(row.second))}</title></rect>`
          : '';
      const text = `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end">${esc(row.label)}</text><text x="${labelWidth + scale(Math.max(row.value, row.second ?? 0)) + 6}" y="${y + 12}">${esc(format(row.value))}${row.second !== undefined ? ` / ${esc(format(row.second))}` : ''}</text>`;
      return first + second + text;
    })
    .join('');
  const legend = options.legend
    ? `<rect x="${labelWidth}" y="4" width="12" height="12" fill="#3b6fd8"/><text x="${labelWidth + 18}" y="14">${esc(options.legend[0])}</text><rect x="${labelWidth + 110}" y="4" width="12" height="12" fill="#c9d3e6"/><text x="${labelWidth + 128}" y="14">${esc(options.legend[1])}</text>`
    : '';
  return `<figure><figcaption>${esc(options.title)}</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(options.title)}">${legend}${bars}</svg></figure>`;
}

/** Vertical histogram of vote agreement, by tenth. */
function histogram(bins: readonly number[]): string {
  const width = 560;
  const height = 180;
  const pad = { left: 40, bottom: 28, top: 10 };
  const max = Math.max(...bins, 1);
  const barWidth = (width - pad.left - 10) / bins.length;
  const bars = bins
    .map((count, index) => {
      const h = ((height - pad.bottom - pad.top) * count) / max;
      const x = pad.left + index * barWidth;
      return `<rect x="${(x + 2).toFixed(1)}" y="${(height - pad.bottom - h).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="#3b6fd8"><title>${(index / 10).toFixed(1)}–${((index + 1) / 10).toFixed(1)}: ${count}</title></rect>${count > 0 ? `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(height - pad.bottom - h - 3).toFixed(1)}" text-anchor="middle">${count}</text>` : ''}<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - 10}" text-anchor="middle">${(index / 10).toFixed(1)}</text>`;
    })
    .join('');
  return `<figure><figcaption>Self-consistency agreement of kept labels (share of votes for the chosen output)</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="agreement histogram"><line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - 10}" y2="${height - pad.bottom}" stroke="#888"/>${bars}</svg></figure>`;
}

/** The training loss by step, as a polyline. */
function lossCurve(points: RunReport['training'] extends infer T ? (T extends { loss: infer L } ? L : never) : never): string {
  if (!points || points.length < 2) return points?.length === 1 ? `<p>One loss value: ${points[0]!.loss.toFixed(4)} at step ${points[0]!.step}.</p>` : '<p>No loss values were reported by the trainer.</p>';
  const width = 560;
  const height = 220;
  const pad = { left: 52, right: 12, top: 12, bottom: 32 };
  const steps = points.map((p) => p.step);
  const losses = points.map((p) => p.loss);
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  const [y0, y1] = [Math.min(...losses, 0), Math.max(...losses)];
  const x = (step: number) => pad.left + ((width - pad.left - pad.right) * (step - x0)) / Math.max(1, x1 - x0);
  const y = (loss: number) => height - pad.bottom - ((height - pad.top - pad.bottom) * (loss - y0)) / Math.max(1e-12, y1 - y0);
  const path = points.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  const ticks = [y0, (y0 + y1) / 2, y1]
    .map((v) => `<text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(3)}</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`)
    .join('');
  return `<figure><figcaption>Training loss by step</figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="training loss curve">${ticks}<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${height - pad.bottom}" stroke="#888"/><polyline fill="none" stroke="#d8563b" stroke-width="2" points="${path}"/><text x="${pad.left}" y="${height - 10}">step ${x0}</text><text x="${width - pad.right}" y="${height - 10}" text-anchor="end">step ${x1}</text></svg></figure>`;
}

function table(head: string[], rows: string[][], numeric = true): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell, index) => `<td${numeric && index > 0 ? ' class="n"' : ''}>${esc(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A model folder path shortened to its last parts, for a table header. */
function shortModel(id: string): string {
  const parts = id.split(/[\\/]/).filter(Boolean);
  return parts.length > 3 ? `…/${parts.slice(-3).join('/')}` : id;
}

/** report.html: one self-contained page (inline CSS and SVG, no scripts, no network). */
export function renderReportHtml(report: RunReport): string {
  const sections: string[] = [];
  sections.push(`<header><h1>prompt2model run report</h1><p class="task">${esc(report.task.instruction)}</p><p class="meta">Language <code>${esc(report.task.language)}</code>${report.task.taskType ? ` · ${esc(report.task.taskType)}` : ''}${report.task.labels ? ` · labels ${esc(report.task.labels.join(', '))}` : ''} · ${report.task.demonstrations} demonstrations · ${esc(report.createdAt)}</p></header>`);
  if (report.verdict) sections.push(`<section class="verdict ${report.verdict.level}"><p><b>${esc(report.verdict.text)}</b></p></section>`);
  const summary: string[] = [];
  if (report.data?.generated !== undefined) summary.push(`<div class="card"><b>${report.data.generated}</b><span>examples generated${report.data.requested !== undefined ? ` of ${report.data.requested}` : ''}</span></div>`);
  if (report.model) summary.push(`<div class="card"><b>${esc(report.model.chosen)}</b><span>base model</span></div>`);
  const primaryName = report.evaluation?.primaryMetric;
  const primaryValue = primaryName !== undefined ? report.evaluation?.student.metrics[primaryName] : undefined;
  if (primaryName !== undefined && primaryValue !== undefined) {
    const teacherValue = report.evaluation?.teacher?.metrics[primaryName];
    summary.push(`<div class="card"><b>${esc(metricText(primaryName, primaryValue))}</b><span>student, the primary metric${teacherValue !== undefined ? ` (teacher ${esc(metricText(primaryName, teacherValue))})` : ''}</span></div>`);
  }
  summary.push(`<div class="card"><b>${usd(report.cost.totalUsd)}</b><span>spent${report.cost.estimateUsd !== undefined ? ` (estimate ${usd(report.cost.estimateUsd)})` : ''}</span></div>`);
  sections.push(`<section class="cards">${summary.join('')}</section>`);

  const data = report.data;
  if (data) {
    const facts: string[][] = [];
    if (data.generated !== undefined) facts.push(['generated', `${data.generated}${data.requested !== undefined ? ` of ${data.requested}` : ''}${data.stoppedBy && data.stoppedBy !== 'target' ? ` (stopped: ${data.stoppedBy})` : ''}`]);
    if (data.candidates !== undefined) facts.push(['candidates seen', String(data.candidates)]);
    if (data.retrieved) facts.push(['retrieved from datasets', String(data.retrieved.count)]);
    if (data.splits) facts.push(['splits', `${data.splits.train} train · ${data.splits.validation} validation · ${data.splits.test} test`]);
    if (data.labelNoise) {
      facts.push(['label noise (estimated)', `${(data.labelNoise.estimatedNoise * 100).toFixed(1)}% of label samples`]);
      facts.push(['expected label accuracy', `${labelAccuracyText(data.labelAccuracy ?? { unknown: 'cannot be estimated' }).replace(/^expected accuracy of the kept labels |^the accuracy of the kept labels /, '')}; errors the teacher repeats every time are not counted`]);
    }
    for (const [label, value] of extraFields(data.extra)) facts.push([label, value]);
    for (const [label, value] of extraFields(data.retrieved?.extra ?? {})) facts.push([`retrieved ${label}`, value]);
    const rejected = Object.entries(data.rejected).sort((a, b) => b[1] - a[1]);
    sections.push(
      `<section><h2>Data</h2>${table(['', ''], facts, false)}${rejected.length ? barChart(rejected.map(([label, value]) => ({ label, value })), { title: 'Rejected candidates by reason' }) : '<p>No candidate was rejected.</p>'}${data.agreementHistogram ? histogram(data.agreementHistogram) : ''}</section>`,
    );
  }
  if (report.model) {
    sections.push(
      `<section><h2>Base model</h2><p><b>${esc(report.model.chosen)}</b>: ${esc(report.model.reason)}.</p>${
        report.model.candidates.length
          ? table(
              ['candidate', 'score', 'size', 'downloads', 'architecture'],
              report.model.candidates.map((c) => [c.id, c.score.toFixed(2), c.sizeBytes ? `${(c.sizeBytes / 1e6).toFixed(0)} MB` : '–', c.downloads !== undefined ? String(c.downloads) : '–', c.architecture]),
            )
          : ''
      }</section>`,
    );
  }
  if (report.training) {
    const t = report.training;
    const artifacts = Object.entries(t.artifacts);
    sections.push(
      `<section><h2>Training</h2><p>${esc(t.method)} on <b>${esc(t.baseModel)}</b> with the ${esc(t.backend)} backend → <code>${esc(t.reference)}</code></p><p>Training ended: ${esc(t.stopReason)}.</p><p>Trained on ${esc(t.trainedOn ?? 'a machine the backend did not name')}; it cost ${usd(t.costUsd)}${t.estimatedCostUsd !== undefined ? ` (estimated ${usd(t.estimatedCostUsd)})` : ''}.</p>${lossCurve(t.loss)}${
        artifacts.length ? table(['artifact', 'path'], artifacts, false) : ''
      }</section>`,
    );
  }
  if (report.evaluation) {
    sections.push(
      `<section><h2>Teacher vs student on the same test set</h2>${table(
        ['', `teacher (${report.evaluation.teacher?.model ?? 'not run'})`, `student (${shortModel(report.evaluation.student.model ?? '?')})`],
        comparisonRows(report),
      )}${
        report.evaluation.samples.length
          ? `<h3>Sample of the test set (${report.evaluation.samples.length} rows, failures first)</h3>${table(
              ['input', 'reference', 'student', 'teacher', 'exact'],
              report.evaluation.samples.map((row) => [clip(row.input ?? ''), clip(row.reference), clip(row.student), clip(row.teacher ?? '–'), row.exact ? 'yes' : 'no']),
              false,
            )}`
          : ''
      }${report.evaluation.notes.map((note) => `<p class="note">${esc(note)}</p>`).join('')}<p class="note">$ per 1,000 calls counts API list prices; a local student is priced at $0 (its compute is not counted).</p></section>`,
    );
  }
  if (report.cascade) {
    const { about, chosen, test, cost } = cascadeSentences(report.cascade);
    sections.push(
      `<section><h2>Cascade: student first, teacher when unsure</h2><p>${esc(about)}</p>${table(['threshold', 'student answers', 'quality', "of the teacher's"], cascadeRows(report.cascade))}<p><b>${esc(chosen)}</b></p>${test ? `<p>${esc(test)}</p>` : ''}<p>${esc(cost)}</p></section>`,
    );
  }
  sections.push(
    `<section><h2>Cost by stage</h2>${barChart(
      report.cost.byStage.map((stage) => ({ label: stage.stage, value: stage.usd, ...(stage.estimateUsd !== undefined ? { second: stage.estimateUsd } : {}) })),
      { title: 'Spent vs estimated (USD)', format: (v) => usd(v), legend: ['spent', 'estimate'] },
    )}${table(
      ['stage', 'spent', 'estimate', 'paid calls', 'cached calls'],
      [...report.cost.byStage.map((s) => [s.stage, usd(s.usd), usd(s.estimateUsd), String(s.paidCalls), String(s.cachedCalls)]), ['total', usd(report.cost.totalUsd), usd(report.cost.estimateUsd), '', '']],
    )}${report.cost.maxCostUsd !== undefined ? `<p class="note">Budget cap (--max-cost): ${usd(report.cost.maxCostUsd)}.</p>` : ''}</section>`,
  );
  const unfinished = Object.entries(report.stages).filter(([, stage]) => stage.status !== 'done');
  if (unfinished.length) sections.push(`<section><h2>Unfinished steps</h2><ul>${unfinished.map(([name, stage]) => `<li>${esc(name)}: ${esc(stage.status)}${stage.note ? ` (${esc(stage.note)})` : ''}</li>`).join('')}</ul></section>`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>prompt2model report: ${esc(report.task.instruction.slice(0, 80))}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;max-width:980px;margin:24px auto;padding:0 20px;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px;border-bottom:1px solid #e3e7ee;padding-bottom:4px}
section{background:#fff;border:1px solid #e3e7ee;border-radius:8px;padding:14px 18px;margin:14px 0}
.verdict p{margin:0;font-size:16px}.verdict.unusable{border-color:#d8563b;background:#fdf1ee}.verdict.gap{border-color:#d8a13b;background:#fdf8ec}.verdict.matches{border-color:#3b9d5a;background:#eef8f1}h3{font-size:14px;margin:12px 0 4px}
.task{font-size:15px;margin:4px 0}.meta,.note{color:#5b6475;font-size:12.5px}
.cards{display:flex;gap:12px;flex-wrap:wrap;background:none;border:none;padding:0}.card{flex:1 1 180px;background:#fff;border:1px solid #e3e7ee;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:18px;word-break:break-all}.card span{color:#5b6475;font-size:12.5px}
table{border-collapse:collapse;margin:8px 0;min-width:50%}th,td{padding:4px 10px;border-bottom:1px solid #eef1f5;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:10px 0}figcaption{font-size:12.5px;color:#5b6475;margin-bottom:4px}svg text{font-size:11px;fill:#1d2330}code{background:#f1f3f7;padding:1px 4px;border-radius:3px}
</style></head><body>
${sections.join('\n')}
<footer class="note">Written by prompt2model from the run folder ${esc(report.outDir)}; the same data is in report.json and report.md.</footer>
</body></html>
`;
}

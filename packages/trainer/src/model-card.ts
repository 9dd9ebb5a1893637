import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calibrationTableRows,
  CascadeCalibrationSchema,
  DatasetSplitsSchema,
  EvalReportSchema,
  formatTrainingPrompt,
  MODEL_CARD_REPO_PLACEHOLDER,
  GenerationSummaryFileSchema,
  PromptSpecSchema,
  readRunFile,
  RetrievedSummarySchema,
  RUN_FILES,
  RunManifestSchema,
  TRAINING_FILES,
  TrainingEstimateFileSchema,
  type CascadeCalibration,
  type EvalReport,
  type PromptSpec,
  type TrainedModel,
  type TrainingJobSpec,
} from '@prompt2model/core/internal';

/** What a model card says; everything but the model is optional and shown when known. */
export interface ModelCardInput {
  model: TrainedModel;
  job?: TrainingJobSpec;
  spec?: PromptSpec;
  /** How the data was made: counts of generated and retrieved examples, the splits, and quality filters. */
  data?: {
    generated?: number;
    retrieved?: number;
    splits?: { train: number; validation: number; test: number };
    /** Self-consistency agreement of the teacher's answers, 0..1. */
    agreement?: number;
    duplicatesRemoved?: number;
    /** Examples dropped because they matched the test set or the prompt's demonstrations. */
    decontaminated?: number;
    /** Hub datasets the retrieved examples came from. */
    datasets?: string[];
    teacher?: string;
  };
  /** The student's measured metrics on the test set. */
  evaluation?: EvalReport;
  /** The teacher's, on the same test set. */
  teacher?: EvalReport;
  /** The student→teacher cascade calibrated on held-out data (`calibration.json`). */
  calibration?: CascadeCalibration;
  /** What the run cost (teacher calls + training). */
  costUsd?: number;
  /** Default `apache-2.0`; set it to the base model's and data's terms. */
  license?: string;
}

const METRIC_NAMES: Record<string, string> = { exact_match: 'Exact match', chrf: 'chrF', 'chrf++': 'chrF++', f1: 'SQuAD F1', bertscore_f1: 'BERTScore F1' };

function yamlString(value: string): string {
  return JSON.stringify(value);
}

function formatMetric(name: string, value: number): string {
  if (!Number.isFinite(value)) return '–';
  return name.startsWith('chrf') ? value.toFixed(2) : value.toFixed(4);
}

/**
 * A Hub id as huggingface_hub's `validate_repo_id` accepts it (`name` or `owner/name`), and not a
 * folder on this disk (`models/t5` looks like an id).
 */
function isHubId(value: string): boolean {
  return /^(\b[\w\-.]+\b\/)?\b[\w\-.]+\b$/.test(value) && !value.includes('--') && !value.includes('..') && value.length <= 96 && !existsSync(value);
}

/**
 * The base model as the Hub's `base_model` field takes it: a Hub id, else the `_name_or_path` of a
 * local folder's config.json when that is a Hub id (the folder was saved from one), else none (the
 * Hub refuses a local path on commit, and transformers' own card writer leaves it out).
 */
export function hubBaseModel(baseModel: string | undefined): string | undefined {
  if (!baseModel) return undefined;
  if (isHubId(baseModel)) return baseModel;
  try {
    const config = JSON.parse(readFileSync(join(baseModel, 'config.json'), 'utf8')) as { _name_or_path?: unknown };
    if (typeof config._name_or_path === 'string' && isHubId(config._name_or_path)) return config._name_or_path;
  } catch {
    // no readable config: nothing to name
  }
  return undefined;
}

/** The YAML front matter the Hub reads: license, base_model, tags, datasets and `model-index` with the measured metrics. */
function frontMatter(input: ModelCardInput): string {
  const { model, evaluation, spec } = input;
  const lines = ['---', `license: ${input.license ?? 'apache-2.0'}`];
  const baseModel = hubBaseModel(model.baseModel);
  if (baseModel) lines.push(`base_model: ${yamlString(baseModel)}`);
  // The Hub's task list has no text2text-generation any more (it is a sub-task of text-generation).
  const pipelineTag = 'text-generation';
  lines.push(`pipeline_tag: ${pipelineTag}`, 'library_name: transformers', 'tags:');
  for (const tag of ['prompt2model', model.method === 'lora' ? 'lora' : 'full-fine-tune', 'onnx', 'transformers.js']) lines.push(`  - ${tag}`);
  const datasets = input.data?.datasets ?? [];
  if (datasets.length > 0) {
    lines.push('datasets:');
    for (const dataset of datasets) lines.push(`  - ${yamlString(dataset)}`);
  }
  // NaN or infinite metrics are left out: YAML would carry them as strings the Hub refuses.
  const metrics = Object.entries(evaluation?.metrics ?? {}).filter(([, value]) => Number.isFinite(value));
  if (metrics.length > 0) {
    lines.push('model-index:', `  - name: ${yamlString(model.jobId ?? model.reference.split(/[\\/]/).slice(-3).join('-'))}`, '    results:', '      - task:');
    lines.push(`          type: ${pipelineTag}`, `          name: ${yamlString(spec?.instruction.slice(0, 80) ?? 'task')}`, '        dataset:');
    lines.push('          type: prompt2model-test-split', '          name: held-out test split', '        metrics:');
    for (const [name, value] of metrics) {
      lines.push(`          - type: ${name}`, `            value: ${Number(value.toPrecision(6))}`, `            name: ${yamlString(METRIC_NAMES[name] ?? name)}`);
    }
  }
  lines.push('---');
  return lines.join('\n');
}

/** The Markdown model card (`README.md`) of a trained model folder. */
export function renderModelCard(input: ModelCardInput): string {
  const { model, job, spec, data, evaluation, teacher } = input;
  const instruction = spec?.instruction ?? job?.instruction ?? '';
  const sections: string[] = [frontMatter(input), '', `# ${spec ? 'Student model: ' + firstLine(instruction) : 'Student model'}`, ''];
  sections.push(
    `Fine-tuned from ${hubBaseModel(model.baseModel) ? `\`${hubBaseModel(model.baseModel)}\`` : `a local base model (\`${model.baseModel.split(/[\\/]/).filter(Boolean).pop() ?? model.baseModel}\`)`} by [prompt2model](https://github.com/neulab/prompt2model) (${model.method === 'lora' ? 'LoRA, merged into the base weights' : 'full fine-tune'}).`,
    '',
    '## Task',
    '',
    instruction ? `> ${instruction.split('\n').join('\n> ')}` : 'No instruction was recorded.',
    '',
  );
  if (spec && spec.examples.length > 0) {
    sections.push('Demonstrations from the prompt:', '', '| input | output |', '|---|---|');
    for (const example of spec.examples.slice(0, 5)) sections.push(`| ${cell(example.input)} | ${cell(example.output)} |`);
    sections.push('');
  }
  sections.push(
    '## Prompt format',
    '',
    'The model was trained on inputs formatted like this; give it the same at inference (prompt2model\'s executors do):',
    '',
    '```text',
    formatTrainingPrompt(instruction, '{input}').trimEnd(),
    '```',
    '',
  );
  if (model.artifacts.onnx) {
    sections.push(
      'An ONNX export (transformers.js layout, with the key/value cache; `dtype: "q8"` for the int8 weights) lets it run in Node or the browser without Python, straight from this repo:',
      '',
      '```js',
      "import { pipeline } from '@huggingface/transformers';",
      `const generate = await pipeline('${job?.architecture === 'decoder-only' ? 'text-generation' : 'text2text-generation'}', '${MODEL_CARD_REPO_PLACEHOLDER}');`,
      `const [answer] = await generate(${JSON.stringify(formatTrainingPrompt(instruction, spec?.examples[0]?.input ?? 'your input').trimEnd())}, { max_new_tokens: 64 });`,
      '```',
      '',
      "(`prompt2model push` writes the repo's id into the snippet above.)",
      '',
    );
  }
  sections.push('## Data', '');
  const facts: string[] = [];
  if (data?.generated !== undefined) facts.push(`${data.generated} examples generated by the teacher${data.teacher ? ` (\`${data.teacher}\`)` : ''}`);
  if (data?.retrieved !== undefined) facts.push(`${data.retrieved} examples retrieved from Hugging Face datasets${data.datasets?.length ? ` (${data.datasets.join(', ')})` : ''}`);
  if (data?.splits) facts.push(`splits: ${data.splits.train} train, ${data.splits.validation} validation, ${data.splits.test} test (split by input, so no input is in two splits)`);
  if (data?.agreement !== undefined) facts.push(`teacher self-consistency agreement: ${(data.agreement * 100).toFixed(1)}%`);
  if (data?.duplicatesRemoved !== undefined) facts.push(`${data.duplicatesRemoved} near-duplicates removed`);
  if (data?.decontaminated !== undefined) facts.push(`${data.decontaminated} examples removed by decontamination against the test split and the prompt's demonstrations`);
  sections.push(...(facts.length > 0 ? facts.map((fact) => `- ${fact}`) : ['- Not recorded (the model was trained on data given by hand).']), '');
  if (job) {
    sections.push(
      '## Training',
      '',
      '| setting | value |',
      '|---|---|',
      `| method | ${job.method}${job.method === 'lora' ? ` (r=${job.lora.r}, alpha=${job.lora.alpha}, dropout=${job.lora.dropout})` : ''} |`,
      `| epochs | ${job.epochs} |`,
      `| learning rate | ${job.learningRate} |`,
      `| batch size | ${job.batchSize} × ${job.gradientAccumulationSteps} accumulation |`,
      `| max source / target tokens | ${job.maxSourceLength} / ${job.maxTargetLength} |`,
      `| precision | ${job.precision} |`,
      `| seed | ${job.seed} |`,
      '',
    );
  }
  sections.push('## Evaluation', '');
  if (evaluation) {
    const names = Object.keys({ ...evaluation.metrics, ...(teacher?.metrics ?? {}) });
    sections.push(`On ${evaluation.count} held-out test examples:`, '', `| metric | ${teacher ? `teacher (${teacher.model ?? 'teacher'}) | ` : ''}student |`, `|---|${teacher ? '---|' : ''}---|`);
    for (const name of names) {
      const student = evaluation.metrics[name];
      const teacherValue = teacher?.metrics[name];
      sections.push(`| ${METRIC_NAMES[name] ?? name} | ${teacher ? `${teacherValue === undefined ? '–' : formatMetric(name, teacherValue)} | ` : ''}${student === undefined ? '–' : formatMetric(name, student)} |`);
    }
    if (evaluation.latencyMsPerExample !== undefined) sections.push(`| latency per example | ${teacher?.latencyMsPerExample !== undefined ? `${teacher.latencyMsPerExample.toFixed(1)} ms | ` : teacher ? '– | ' : ''}${evaluation.latencyMsPerExample.toFixed(1)} ms |`);
    if (evaluation.costPer1000Usd !== undefined) sections.push(`| cost per 1,000 requests | ${teacher?.costPer1000Usd !== undefined ? `$${teacher.costPer1000Usd.toFixed(4)} | ` : teacher ? '– | ' : ''}$${evaluation.costPer1000Usd.toFixed(4)} |`);
    sections.push('');
  } else {
    sections.push('Not evaluated yet (`prompt2model eval --model <this folder> --data test.jsonl`).', '');
  }
  if (input.calibration) sections.push(...cascadeSection(input.calibration));
  sections.push('## Cost', '');
  const cost = input.costUsd ?? model.metrics.costUsd;
  sections.push(cost !== undefined ? `$${cost.toFixed(4)} in total (teacher calls and training).` : 'Not recorded (your own hardware, no teacher calls billed).', '');
  sections.push(
    '## Limitations',
    '',
    '- Trained on synthetic data written by a teacher model: it inherits the teacher\'s errors and biases, and covers only what the generated examples cover.',
    '- Evaluated on a held-out split of that same data, not on real user traffic; check it on your own examples before relying on it.',
    '- A small model: expect it to fail on inputs far from the training distribution, long inputs (beyond the max source tokens above), and other languages than the prompt\'s.',
    '',
  );
  return `${sections.join('\n')}\n`;
}

const share = (value: number) => `${(value * 100).toFixed(0)}%`;
const dollars = (value: number) => `$${value.toFixed(4)}`;

/** The cascade: the coverage-quality table, the chosen threshold and the cost per 1,000 calls. */
function cascadeSection(calibration: CascadeCalibration): string[] {
  const { chosen, costPer1000, metric } = calibration;
  const name = METRIC_NAMES[metric] ?? metric;
  const lines = [
    '## Cascade with the teacher',
    '',
    `Answer with this model when its confidence (exp of the mean token log-probability) is at least a threshold, and ask the teacher (\`${calibration.teacher.model}\`) otherwise. Calibrated on ${calibration.heldOut.count} held-out ${calibration.heldOut.split} examples the model was not trained on (${name}; teacher ${formatMetric(metric, calibration.teacher.quality)}, this model alone ${formatMetric(metric, calibration.student.quality)}):`,
    '',
    `| threshold | answered by this model | ${name} | of the teacher's |`,
    '|---:|---:|---:|---:|',
  ];
  for (const row of calibrationTableRows(calibration)) {
    lines.push(`| ${row.chosen ? `**${row.threshold.toFixed(4)}**` : row.threshold.toFixed(4)} | ${share(row.coverage)} | ${formatMetric(metric, row.quality)} | ${row.relativeQuality === undefined ? '–' : share(row.relativeQuality)} |`);
  }
  lines.push(`| teacher only | 0% | ${formatMetric(metric, calibration.teacher.quality)} | 100% |`, '');
  lines.push(
    chosen.threshold === null
      ? `No threshold keeps ${share(calibration.targetQuality)} of the teacher's quality: a cascade sends every call to the teacher.`
      : `Chosen threshold: **${chosen.threshold.toFixed(4)}**, the lowest that keeps ${share(calibration.targetQuality)} of the teacher's quality: this model answers ${share(chosen.coverage)} of calls.`,
    '',
    `Expected cost per 1,000 calls${costPer1000.priced ? '' : ' (the teacher has no known price: counted as $0)'}: teacher only ${dollars(costPer1000.teacherOnlyUsd)}, this model only ${dollars(costPer1000.studentOnlyUsd)}${costPer1000.studentOnlyUsd > 0 ? '' : ' (local compute not priced)'}, cascade ${dollars(costPer1000.cascadeUsd)}.`,
    '',
  );
  return lines;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 120);
}

/** The folders that get the card: the model the reference names (merged copy or full fine-tune) and the ONNX export. */
export function modelCardFolders(model: TrainedModel): string[] {
  if (model.kind !== 'local-folder') return [];
  const folders = [model.artifacts.merged ?? model.artifacts.model ?? model.reference, model.artifacts.onnx];
  return [...new Set(folders.filter((folder): folder is string => typeof folder === 'string' && existsSync(folder)))];
}

/** Writes `README.md` into every folder of the trained model; returns the paths written. */
export async function writeModelCard(input: ModelCardInput): Promise<string[]> {
  const text = renderModelCard(input);
  const written: string[] = [];
  for (const folder of modelCardFolders(input.model)) {
    const path = join(folder, 'README.md');
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}

/**
 * The card's facts from a run folder, each file read with the schema core keeps for it:
 * prompt-spec.json, generation-summary.json (counts, agreement, duplicates, decontamination),
 * retrieved-summary.json, splits.json, eval-report.json, the training estimate and the manifest's cost.
 */
export async function modelCardInputFromRun(runDir: string, model: TrainedModel, extra: Partial<ModelCardInput> = {}): Promise<ModelCardInput> {
  // A damaged file leaves its facts out of the card rather than failing training.
  const quiet = <T>(reading: Promise<T>) => reading.catch(() => undefined);
  const spec = await quiet(readRunFile(runDir, RUN_FILES.promptSpec, PromptSpecSchema));
  const generation = await quiet(readRunFile(runDir, RUN_FILES.generationSummary, GenerationSummaryFileSchema));
  const retrieved = await quiet(readRunFile(runDir, RUN_FILES.retrievedSummary, RetrievedSummarySchema));
  const splits = (await quiet(readRunFile(runDir, RUN_FILES.splits, DatasetSplitsSchema)))?.counts;
  const evaluation = await quiet(readRunFile(runDir, RUN_FILES.evalReport, EvalReportSchema));
  const calibration = await quiet(readRunFile(runDir, RUN_FILES.calibration, CascadeCalibrationSchema));
  const manifest = await quiet(readRunFile(runDir, RUN_FILES.manifest, RunManifestSchema));
  const estimate = await quiet(readRunFile(runDir, `${RUN_FILES.training}/${TRAINING_FILES.estimate}`, TrainingEstimateFileSchema));
  const data: NonNullable<ModelCardInput['data']> = {};
  if (generation) data.generated = generation.count;
  if (retrieved) data.retrieved = retrieved.count;
  if (splits) data.splits = splits;
  if (generation?.meanAgreement !== undefined) data.agreement = generation.meanAgreement;
  if (generation?.duplicates !== undefined) data.duplicatesRemoved = generation.duplicates;
  if (generation?.decontaminated !== undefined) data.decontaminated = generation.decontaminated;
  if (generation?.teacher !== undefined) data.teacher = generation.teacher;
  const config = manifest?.config as Record<string, unknown> | undefined;
  if (typeof config?.teacher === 'string') data.teacher = config.teacher;
  const cost = manifest?.cost?.usd;
  return {
    model,
    ...(estimate?.job ? { job: estimate.job as TrainingJobSpec } : {}),
    ...(spec?.instruction !== undefined ? { spec } : {}),
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(evaluation?.metrics ? { evaluation } : {}),
    ...(calibration ? { calibration } : {}),
    ...(cost !== undefined ? { costUsd: cost } : {}),
    ...extra,
  };
}

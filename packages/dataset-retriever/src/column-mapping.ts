import { type LanguageModelClient, loadZod, type PromptSpec, ValidationError } from '@prompt2model/core/internal';
import { evaluationEntries } from './dataset-record.js';
import { pathReader, sampleRowText, type ColumnPath } from './features.js';
import { demonstrationsText } from './prompt-text.js';

/** Which paths of a row make the example's input (in order) and which one is its output. */
export interface ColumnMapping {
  input: string[];
  output: string;
}

export interface ColumnMappingProposal extends ColumnMapping {
  /** Where it came from: flags, the teacher, the card's `col_mapping`, or name heuristics. */
  source: 'flags' | 'teacher' | 'col_mapping' | 'heuristic';
  irrelevant?: string[];
  ambiguous?: string[];
  reason?: string;
}

/** Checks a mapping against the dataset's real paths; the error lists the paths there are. */
export function validateMapping(mapping: ColumnMapping, paths: ColumnPath[], subject = 'column mapping'): void {
  const known = new Set(paths.map((path) => path.path));
  const issues: Array<{ path: string; message: string }> = [];
  if (mapping.input.length === 0) issues.push({ path: 'input', message: 'needs at least one column' });
  for (const path of mapping.input) if (!known.has(path)) issues.push({ path: 'input', message: `"${path}" is not a column of the dataset` });
  if (!known.has(mapping.output)) issues.push({ path: 'output', message: `"${mapping.output}" is not a column of the dataset` });
  if (mapping.input.includes(mapping.output)) issues.push({ path: 'output', message: `"${mapping.output}" is also an input column` });
  if (issues.length > 0) {
    throw new ValidationError({
      subject,
      issues,
      hint: `Columns of this dataset: ${paths.map((path) => path.path).join(', ')}. Pass a \`mapping\` of these (input and output columns).`,
    });
  }
}

/** The example's input: one column's value, or `column: value` lines for several. */
export function inputText(row: Record<string, unknown>, mapping: ColumnMapping, paths: ColumnPath[]): string {
  return mappingReader(mapping, paths).input(row);
}

export function outputText(row: Record<string, unknown>, mapping: ColumnMapping, paths: ColumnPath[]): string {
  return mappingReader(mapping, paths).output(row);
}

/**
 * `inputText` and `outputText` for one mapping, with its columns looked up and parsed once: a
 * load converts every row of a split with the same mapping.
 */
export function mappingReader(mapping: ColumnMapping, paths: ColumnPath[]): { input: (row: Record<string, unknown>) => string; output: (row: Record<string, unknown>) => string } {
  const byPath = new Map(paths.map((path) => [path.path, path]));
  const inputs = mapping.input.map((path) => ({ read: pathReader(byPath.get(path) ?? path), label: labelOf(path) }));
  const output = pathReader(byPath.get(mapping.output) ?? mapping.output);
  const single = inputs.length === 1 ? inputs[0]!.read : undefined;
  return {
    input: single
      ? (row) => single(row).trim()
      : (row) => {
          let text = '';
          for (let i = 0; i < inputs.length; i++) {
            const value = inputs[i]!.read(row).trim();
            if (value) text += `${text ? '\n' : ''}${inputs[i]!.label}: ${value}`;
          }
          return text;
        },
    output: (row) => output(row).trim(),
  };
}

const labels = new Map<string, string>();
function labelOf(path: string): string {
  let label = labels.get(path);
  if (label === undefined) {
    label = path.replace(/\[\d+\]/g, '').split('.').pop()!.replace(/_/g, ' ');
    if (labels.size < 1000) labels.set(path, label);
  }
  return label;
}

// Roles `col_mapping` gives the task's columns: these are outputs, the others inputs.
const outputRoles = new Set(['target', 'label', 'labels', 'tags', 'answers', 'answer', 'summary', 'text_target']);

/**
 * The card's evaluation metadata (`train-eval-index` → `col_mapping`, dataset column → task role,
 * e.g. `{document: text, summary: target}` or `{question, context, answers: {text: text}}`) as a mapping.
 */
export function mappingFromEvaluationMetadata(metadata: unknown, paths: ColumnPath[], config?: string): ColumnMapping | undefined {
  const entries = evaluationEntries(metadata);
  const entry = entries.find((candidate) => !config || !candidate.config || candidate.config === config) ?? entries[0];
  const columns = entry?.col_mapping;
  if (!columns) return undefined;
  const input: string[] = [];
  let output: string | undefined;
  const resolve = (column: string): string | undefined => {
    const exact = paths.find((path) => path.path === column);
    if (exact) return exact.path;
    return paths.find((path) => path.path === `${column}[0]` || path.path.startsWith(`${column}.`) || path.path.startsWith(`${column}[0]`))?.path;
  };
  for (const [column, role] of Object.entries(columns)) {
    if (role !== null && typeof role === 'object') {
      // `answers: {text: text, answer_start: answer_start}`: the text sub-column is the output.
      const sub = Object.keys(role as Record<string, unknown>).find((key) => key === 'text') ?? Object.keys(role as Record<string, unknown>)[0];
      const path = sub ? resolve(`${column}.${sub}`) : undefined;
      if (path && !output) output = path;
      continue;
    }
    const path = resolve(column);
    if (!path) continue;
    if (outputRoles.has(String(role)) && !output) output = path;
    else input.push(path);
  }
  if (!output || input.length === 0) return undefined;
  return { input, output };
}

const inputNames = ['input', 'inputs', 'source', 'src', 'text', 'sentence', 'document', 'article', 'question', 'context', 'passage', 'premise', 'hypothesis', 'query', 'prompt', 'dialogue', 'code', 'nl', 'intent', 'meaning_representation', 'mr'];
const outputNames = ['output', 'outputs', 'target', 'tgt', 'label', 'labels', 'answer', 'answers', 'summary', 'highlights', 'response', 'completion', 'translation', 'snippet', 'ref', 'references', 'human_reference', 'headline', 'title'];

/**
 * A guess from column names, for runs without a teacher: for a Translation pair the languages in
 * the order the instruction names them; else the best-named input and output columns.
 */
export function heuristicMapping(paths: ColumnPath[], spec: Pick<PromptSpec, 'instruction'>): ColumnMapping | undefined {
  const translation = paths.filter((path) => /^[^.]+\.[a-z]{2,3}(?:[-_][A-Za-z]+)?$/.test(path.path) && path.type === 'string');
  if (translation.length === 2) {
    const [a, b] = translation as [ColumnPath, ColumnPath];
    const position = (path: ColumnPath) => languagePosition(spec.instruction, path.path.split('.').pop()!);
    const [source, target] = position(a) <= position(b) ? [a, b] : [b, a];
    return { input: [source.path], output: target.path };
  }
  const leaf = (path: ColumnPath) => path.path.replace(/\[\d+\]/g, '').toLowerCase();
  const rank = (names: string[], path: ColumnPath) => {
    const name = leaf(path);
    const index = names.findIndex((candidate) => name === candidate || name.endsWith(`.${candidate}`) || name.split('.')[0] === candidate);
    return index < 0 ? Number.POSITIVE_INFINITY : index;
  };
  const outputs = paths.filter((path) => Number.isFinite(rank(outputNames, path))).sort((a, b) => rank(outputNames, a) - rank(outputNames, b));
  const output = outputs[0];
  if (!output) return undefined;
  const inputs = paths
    .filter((path) => path !== output && path.column !== output.column && Number.isFinite(rank(inputNames, path)))
    .sort((a, b) => rank(inputNames, a) - rank(inputNames, b));
  if (inputs.length === 0) return undefined;
  // Question answering reads a question and its passage; other tasks one text column.
  const question = inputs.find((path) => leaf(path) === 'question');
  const context = inputs.find((path) => ['context', 'passage', 'article', 'document'].includes(leaf(path)));
  const input = question && context ? [question.path, context.path] : [inputs[0]!.path];
  return { input, output: output.path };
}

const languageNames: Record<string, string[]> = {
  en: ['english'], de: ['german', 'deutsch'], fr: ['french'], es: ['spanish'], it: ['italian'], pt: ['portuguese'], nl: ['dutch'],
  ru: ['russian'], zh: ['chinese', 'mandarin'], ja: ['japanese'], ko: ['korean'], ar: ['arabic'], hi: ['hindi'], tr: ['turkish'],
  ro: ['romanian'], cs: ['czech'], fi: ['finnish'], et: ['estonian'], lv: ['latvian'], lt: ['lithuanian'], pl: ['polish'], sv: ['swedish'],
  da: ['danish'], no: ['norwegian'], uk: ['ukrainian'], vi: ['vietnamese'], th: ['thai'], id: ['indonesian'], he: ['hebrew'], el: ['greek'],
  hu: ['hungarian'], bg: ['bulgarian'], kk: ['kazakh'], gu: ['gujarati'], ne: ['nepali'], si: ['sinhala'], ta: ['tamil'], fa: ['persian', 'farsi'],
};

function languagePosition(instruction: string, code: string): number {
  const text = instruction.toLowerCase();
  const positions = (languageNames[code.slice(0, 2)] ?? []).map((name) => text.indexOf(name)).filter((index) => index >= 0);
  return positions.length ? Math.min(...positions) : Number.POSITIVE_INFINITY;
}

/** The teacher's answer, validated against the dataset's real paths (unknown paths are rejected and asked again). */
function answerSchema(paths: ColumnPath[]) {
  const z = loadZod();
  const path = z.enum(paths.map((column) => column.path) as [string, ...string[]]);
  return z.object({
    input: z.array(path).min(1),
    output: path,
    irrelevant: z.array(path).default([]),
    ambiguous: z.array(path).default([]),
    reason: z.string().default(''),
  });
}

/**
 * Asks the teacher which columns make the task's input and output, shown the task, its
 * demonstrations, every column with its type and one sample row (values truncated). A mapping
 * from the card's `col_mapping` is offered as a starting point. Cached and budgeted like every
 * teacher call.
 */
export async function teacherColumnMapping(
  request: { spec: PromptSpec; dataset: string; paths: ColumnPath[]; sampleRow: Record<string, unknown>; seed?: ColumnMapping },
  teacher: LanguageModelClient,
  options: { signal?: AbortSignal; stage?: string } = {},
): Promise<ColumnMappingProposal> {
  const { spec, paths } = request;
  const examples = demonstrationsText(spec);
  const { object } = await teacher.generateObject(
    {
      schemaName: 'column_mapping',
      temperature: 0,
      maxTokens: 400,
      messages: [
        { role: 'system', content: 'You map the columns of a Hugging Face dataset onto a text-to-text task. Answer with JSON only.' },
        {
          role: 'user',
          content: [
            `Task: ${spec.instruction}`,
            ...(examples ? ['', examples] : []),
            '',
            `Dataset: ${request.dataset}. Its columns (path, type) with one sample row:`,
            sampleRowText(request.sampleRow, paths),
            ...(request.seed ? ['', `The dataset card suggests input ${JSON.stringify(request.seed.input)} and output ${JSON.stringify(request.seed.output)}; keep it unless it does not fit the task.`] : []),
            '',
            'Choose the input columns (in the order the model should read them), exactly one output column (what the model must produce),',
            'the irrelevant columns, and the ambiguous ones. Use the column paths exactly as listed.',
            'Answer as {"input": [path, ...], "output": path, "irrelevant": [path, ...], "ambiguous": [path, ...], "reason": "one sentence"}.',
          ].join('\n'),
        },
      ],
    },
    answerSchema(paths),
    { stage: options.stage ?? 'retrieve-datasets', ...(options.signal ? { signal: options.signal } : {}) },
  );
  const mapping = { input: [...new Set(object.input)].filter((path) => path !== object.output), output: object.output };
  validateMapping(mapping, paths, `${teacher.modelId} column mapping for ${request.dataset}`);
  return { ...mapping, source: 'teacher', irrelevant: object.irrelevant, ambiguous: object.ambiguous, ...(object.reason ? { reason: object.reason } : {}) };
}

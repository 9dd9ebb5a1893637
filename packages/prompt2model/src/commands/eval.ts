import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ValidationError } from '@prompt2model/core/errors';
import type { EvalReport, TaskType } from '@prompt2model/core';
import type { ComputeMetricsOptions } from '@prompt2model/evaluator';
import { predictSettings } from '../flags/training.js';
import { CliUsageError, parseNumber, type CliRuntime } from '../runtime.js';

interface EvalOptions {
  predictions?: string;
  references?: string;
  model?: string;
  data?: string;
  metrics?: string;
  taskType?: TaskType;
  instruction?: string;
  batchSize?: number;
  maxNewTokens?: number;
  maxExamples?: number;
  allowRemoteModels: boolean;
  python?: string;
  savePredictions?: string;
  compareTeacher: boolean;
  ignoreCase: boolean;
  ignorePunctuation: boolean;
  squadNormalize: boolean;
  bertscoreModel?: string;
  bertscoreOutput?: string;
  bertscoreIdf: boolean;
  bertscoreBaseline?: string;
  bertscoreLayer?: number;
}

/**
 * `prompt2model eval --predictions FILE --references FILE [--metrics em,chrf++]`: score predictions;
 * or `--model M --data test.jsonl`: run a model (local ONNX folder, `openai:<id>`, `hf:<id>`,
 * `teacher`) over a test set first.
 */
export function register(program: Command, runtime: CliRuntime): void {
  program
    .command('eval')
    .description('Score predictions against references (exact match, chrF/chrF++, SQuAD F1, BERTScore), or run a model over a test set and score it')
    .option('--predictions <file>', 'predictions, one a line: JSON Lines (strings, or objects with "prediction"/"output") or plain lines')
    .option('--references <file>', 'references, one a line: JSON Lines (strings, arrays of strings, or objects with "output"/"reference"/"references") or plain lines')
    .option('--model <model>', 'model to run over --data: a local folder (ONNX export, or a PyTorch model run by the Python worker), openai:<id> (also ft:... ids), hf:<id>, or teacher')
    .option('--data <file>', 'test set, JSON Lines of {"input", "output"}')
    .option('--metrics <list>', 'comma-separated: em (exact_match), f1 (SQuAD), chrf, chrf++, bertscore; default from --task-type')
    .addOption(new Option('--task-type <type>', 'picks default metrics').choices(['classification', 'extraction', 'generation']))
    .option('--instruction <text>', 'task instruction: local models get the training prompt format, API models a system message')
    .addOption(new Option('--batch-size <n>', 'inputs per forward pass (local models, default 8)').argParser(parseNumber('--batch-size', { integer: true, min: 1 })))
    .addOption(new Option('--max-new-tokens <n>', 'most tokens generated per input (local models, default 128)').argParser(parseNumber('--max-new-tokens', { integer: true, min: 1 })))
    .addOption(new Option('--max-examples <n>', 'evaluate the first N examples of --data only').argParser(parseNumber('--max-examples', { integer: true, min: 1 })))
    .option('--allow-remote-models', 'let local-model loading download from the Hugging Face Hub', false)
    .option('--python <path>', 'Python with torch + transformers for PyTorch model folders (default $P2M_PYTHON or python3)')
    .option('--save-predictions <file>', 'write {input, prediction, reference} JSON Lines here')
    .option('--compare-teacher', 'also run the teacher (--teacher/--base-url) on --data and print both side by side', false)
    .option('--ignore-case', 'exact match: ignore case', false)
    .option('--ignore-punctuation', 'exact match: ignore ASCII punctuation', false)
    .option('--squad-normalize', 'exact match: official SQuAD answer normalisation', false)
    .option('--bertscore-model <model>', 'BERTScore encoder: a local ONNX folder (or a Hub id with --allow-remote-models)')
    .option('--bertscore-output <name>', 'encoder output with the token embeddings (default last_hidden_state)')
    .option('--bertscore-idf', 'BERTScore: idf weights from the references', false)
    .option('--bertscore-baseline <file>', 'BERTScore: rescale with this bert_score baseline file (LAYER,P,R,F)')
    .addOption(new Option('--bertscore-layer <n>', 'layer row of --bertscore-baseline').argParser(parseNumber('--bertscore-layer', { integer: true, min: 0 })))
    .action(
      runtime.action(async (_options: EvalOptions, command: Command) => {
        const options = runtime.options<EvalOptions>(command);
        const { chooseMetrics, compareTeacherStudent, computeMetrics, LanguageModelExecutor, parseMetricNames, readTestSet, scorePredictions } = await import('@prompt2model/evaluator/internal');
        const metricOptions = await metricOptionsFrom(options);
        const metrics = options.metrics ? parseMetricNames(options.metrics) : chooseMetrics(options.taskType);
        if (!options.metrics) {
          // BERTScore chosen by default is skipped, with a warning, when its encoder is not on this machine.
          // One short line: the metric is left out, not a failure of the evaluation.
          metricOptions.onBertScoreUnavailable = () => runtime.io.stderr('warning: BERTScore skipped: no local encoder here (give one with --bertscore-model DIR).\n');
        }
        if (options.predictions || options.references) {
          if (!options.predictions || !options.references) throw new CliUsageError('--predictions and --references go together.');
          if (options.model || options.data) throw new CliUsageError('Use either --predictions/--references or --model/--data, not both.');
          const predictions = (await readLines(options.predictions, 'predictions')).map((value, index) => predictionText(value, options.predictions!, index));
          const references = (await readLines(options.references, 'references')).map((value, index) => referenceTexts(value, options.references!, index));
          if (predictions.length !== references.length) {
            throw new ValidationError({
              subject: 'eval input',
              issues: [{ path: '', message: `${predictions.length} predictions in ${options.predictions} but ${references.length} references in ${options.references}` }],
              hint: 'Both files need one line per example, in the same order (check for a missing or extra line at the end).',
            });
          }
          const scores = await computeMetrics(predictions, references, metrics, metricOptions);
          const result = { metrics: scores, count: predictions.length };
          runtime.print(options, result, () => describeMetrics(result.metrics, result.count));
          return;
        }
        if (!options.model || !options.data) {
          throw new CliUsageError('Nothing to evaluate.', 'Pass --predictions FILE --references FILE, or --model MODEL --data test.jsonl.');
        }
        const examples = await readTestSet(options.data, options.maxExamples).catch((error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EISDIR') {
            throw new CliUsageError(`Cannot read the test set ${options.data}: ${code === 'ENOENT' ? 'it does not exist' : 'it is a folder'}.`, 'Pass --data with a JSON Lines file of {"input", "output"} rows.');
          }
          throw error;
        });
        if (examples.length === 0) {
          throw new ValidationError({ subject: `test set ${options.data}`, issues: [{ path: '', message: 'the file has no examples' }], hint: 'Pass a JSON Lines file with one {"input", "output"} object a line.' });
        }
        const context = await runtime.createContext(options, {
          teacher: options.model === 'teacher' || options.compareTeacher,
          config: { command: 'eval', model: options.model, data: options.data },
        });
        const { createExecutor } = await import('../registry/executors.js');
        const student = await createExecutor(options.model, {
          ...(options.instruction ? { instruction: options.instruction } : {}),
          providers: { openai: options.baseUrl ? { baseURL: options.baseUrl } : {}, env: runtime.io.env },
          allowRemoteModels: options.allowRemoteModels,
          predict: predictSettings(options, runtime),
          ...(options.batchSize ? { batchSize: options.batchSize } : {}),
          ...(options.maxNewTokens ? { maxNewTokens: options.maxNewTokens } : {}),
        });
        try {
          if (options.compareTeacher) {
            const teacher = new LanguageModelExecutor(options.instruction ? { instruction: options.instruction } : {});
            const comparison = await compareTeacherStudent(
              { teacher, student, examples, metrics, ...(options.taskType ? { taskType: options.taskType } : {}), metricOptions },
              context,
            );
            await context.store.saveCost(context.ledger.snapshot());
            if (options.savePredictions) await savePredictions(options.savePredictions, comparison.student);
            runtime.print(options, { teacher: withoutExamples(comparison.teacher), student: withoutExamples(comparison.student), markdown: comparison.markdown }, comparison.markdown);
            return;
          }
          const predictions = await student.execute(
            examples.map((example) => example.input),
            context,
          );
          const stats = student.lastRun;
          const report = await scorePredictions(examples, predictions, student.modelId, {
            metrics,
            metricOptions,
            ...(options.taskType ? { taskType: options.taskType } : {}),
            ...(stats ? { stats } : {}),
          });
          await context.store.saveCost(context.ledger.snapshot());
          if (options.savePredictions) await savePredictions(options.savePredictions, report);
          runtime.print(options, withoutExamples(report), () =>
            [
              `Model: ${report.model}`,
              describeMetrics(report.metrics, report.count),
              `Latency per example: ${report.latencyMsPerExample?.toFixed(1)} ms`,
              ...(report.costPer1000Usd !== undefined ? [`Cost per 1,000 requests: $${report.costPer1000Usd.toFixed(4)}`] : []),
            ].join('\n'),
          );
        } finally {
          await student.dispose?.();
        }
      }),
    );
}

async function metricOptionsFrom(options: EvalOptions): Promise<ComputeMetricsOptions> {
  if (options.bertscoreBaseline && options.bertscoreLayer === undefined) {
    throw new CliUsageError('--bertscore-baseline needs --bertscore-layer (the layer your embeddings come from).');
  }
  return {
    exactMatch: {
      ignoreCase: options.ignoreCase,
      ignorePunctuation: options.ignorePunctuation,
      normalize: options.squadNormalize ? 'squad' : 'none',
    },
    bertScore: {
      ...(options.bertscoreModel ? { model: options.bertscoreModel } : {}),
      ...(options.bertscoreOutput ? { outputName: options.bertscoreOutput } : {}),
      idf: options.bertscoreIdf,
      allowRemoteModels: options.allowRemoteModels,
      ...(options.bertscoreBaseline ? { baseline: await (await import('@prompt2model/evaluator/internal')).loadBertScoreBaseline(options.bertscoreBaseline, options.bertscoreLayer!) } : {}),
    },
  };
}

/**
 * Lines of a predictions/references file: JSON Lines (every non-empty line a JSON string, array or
 * object) when the file is `.jsonl`/`.json` or its first line is JSON, else plain text lines. An
 * empty or binary file, or a JSON Lines file with a broken line, is an error naming the file and
 * line: garbage is never scored as text.
 */
async function readLines(path: string, what: string): Promise<unknown[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliUsageError(`Cannot read the ${what} file ${path}: ${why}.`, `Pass --${what} with the path of a JSON Lines or text file, one ${what === 'predictions' ? 'prediction' : 'reference'} a line.`);
  }
  const problem = binaryReason(bytes);
  if (problem) throw fileError(path, what, problem, 'Pass a UTF-8 text file (JSON Lines or one text a line), not a binary file.');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw fileError(path, what, 'the file is empty', `Write one ${what === 'predictions' ? 'prediction' : 'reference'} a line.`);
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  const firstIndex = lines.findIndex((line) => line.trim() !== '');
  const declaredJson = /\.(jsonl|ndjson|json)$/i.test(path);
  const json = declaredJson || parsesAsJsonValue(lines[firstIndex]!);
  if (!json) return lines;
  const parsed: unknown[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw invalidLine(path, index, `not valid JSON (${(error as Error).message}); the file is read as JSON Lines${declaredJson ? ' (its name ends in .jsonl/.json)' : ' (its first line is JSON)'}`);
    }
    if (value === null || (typeof value !== 'string' && typeof value !== 'object')) {
      throw invalidLine(path, index, `a JSON ${value === null ? 'null' : typeof value}, not a string, an array or an object`);
    }
    parsed.push(value);
  }
  return parsed;
}

function parsesAsJsonValue(line: string): boolean {
  const trimmed = line.trim();
  if (!/^[{["]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** Why bytes are not a text file: NUL bytes, or invalid UTF-8. */
function binaryReason(bytes: Buffer): string | undefined {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `it contains NUL bytes (first at byte ${nul}): it is a binary file, not text`;
  const text = bytes.toString('utf8');
  const replacements = text.match(/\uFFFD/g)?.length ?? 0;
  if (replacements > 0 && !bytes.includes(Buffer.from('\uFFFD'))) return `${replacements} byte sequences are not valid UTF-8: it is binary data or text in another encoding`;
  return undefined;
}

function fileError(path: string, what: string, message: string, hint: string): ValidationError {
  return new ValidationError({ subject: `${what} file ${path}`, issues: [{ path: '', message }], hint });
}

function invalidLine(path: string, index: number, message: string): ValidationError {
  return new ValidationError({
    subject: `${path} line ${index + 1}`,
    issues: [{ path: '', message }],
    hint: 'Fix that line: JSON Lines need one JSON string (or an object with the text field) a line; or use a .txt file with one plain text a line.',
  });
}

function predictionText(value: unknown, path: string, index: number): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of ['prediction', 'output', 'text']) if (typeof record[key] === 'string') return record[key] as string;
  }
  throw invalidLine(path, index, 'expected a string or an object with "prediction", "output" or "text"');
}

function referenceTexts(value: unknown, path: string, index: number): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value as string[];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of ['references', 'reference', 'output']) {
      const field = record[key];
      if (typeof field === 'string') return field;
      if (Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'string')) return field as string[];
    }
  }
  throw invalidLine(path, index, 'expected a string, an array of strings, or an object with "output", "reference" or "references"');
}

function withoutExamples(report: EvalReport): Omit<EvalReport, 'perExample'> {
  const { perExample: _perExample, ...rest } = report;
  return rest;
}

async function savePredictions(path: string, report: EvalReport): Promise<void> {
  const rows = report.perExample ?? [];
  await writeFile(path, rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length > 0 ? '\n' : ''));
}

function describeMetrics(metrics: Record<string, number>, count: number): string {
  const width = Math.max(...Object.keys(metrics).map((name) => name.length), 8);
  const lines = Object.entries(metrics).map(([name, value]) => `${name.padEnd(width)}  ${name.startsWith('chrf') ? value.toFixed(2) : value.toFixed(4)}`);
  return [...lines, `${'examples'.padEnd(width)}  ${count}`].join('\n');
}

import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { EvalReport, TaskType } from '@prompt2model/core/internal';
import type { ComputeMetricsOptions } from '@prompt2model/evaluator/internal';
import { predictSettings, threadsOption } from '../flags/training.js';
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
  threads?: number;
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
    .addOption(threadsOption())
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
        const { chooseMetrics, compareTeacherStudent, computeMetrics, LanguageModelExecutor, parseMetricNames, readPredictionFiles, readTestSetFile, scorePredictions } = await import('@prompt2model/evaluator/internal');
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
          const { predictions, references } = await readPredictionFiles(options.predictions, options.references);
          const scores = await computeMetrics(predictions, references, metrics, metricOptions);
          const result = { metrics: scores, count: predictions.length };
          runtime.print(options, result, () => describeMetrics(result.metrics, result.count));
          return;
        }
        if (!options.model || !options.data) {
          throw new CliUsageError('Nothing to evaluate.', 'Pass --predictions FILE --references FILE, or --model MODEL --data test.jsonl.');
        }
        const examples = await readTestSetFile(options.data, options.maxExamples);
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

import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { PipelineResult } from '@prompt2model/core/internal';
import { readPromptFile } from '../flags/input.js';
import { addTrainingOptions, baseModelId, createTrainingBackend, exportSettings, predictSettings, trainingSettings, type TrainingFlags } from '../flags/training.js';
import { CliUsageError, checkExampleTarget, parseNumber, parseSize, type CliRuntime } from '../runtime.js';
import { retrieverConfig } from '../flags/datasets.js';
import { hubAccessFrom } from '../flags/hub.js';
import { addLabelVoteOptions, labelVoteSettings, type LabelVoteFlags } from '../flags/label-votes.js';

interface RunOptions extends TrainingFlags, LabelVoteFlags {
  prompt: string;
  numExamples: number;
  baseModel?: string;
  index?: string;
  topK: number;
  maxSize: string;
  hyde: boolean;
  gpuMemory?: string;
  train: boolean;
  evaluate: boolean;
  calibrate: boolean;
  targetQuality: number;
  metrics?: string;
  maxEvalExamples?: number;
  estimateOnly: boolean;
  acceptFewerExamples: boolean;
  preflight: boolean;
  report: boolean;
  retrieveDatasets: boolean;
  datasetIndex?: string;
  dataset?: string;
  datasetExclude?: string[];
  datasetInput?: string[];
  datasetOutput?: string;
  maxRows: number;
}

/**
 * `prompt2model run --prompt FILE --out DIR`: the whole pipeline — parse, generate, split, pick a
 * base model, train, evaluate — in one resumable run folder.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const command = program
    .command('run')
    .description('The whole pipeline: prompt → spec → generated data → base model → trained model → evaluation (resumable with the same --out)')
    .requiredOption('--prompt <file>', 'prompt file: an instruction and a few examples')
    .addOption(new Option('--num-examples <n>', 'generated examples to aim for').argParser(parseNumber('--num-examples', { integer: true, min: 1, max: 10_000_000 })).default(200))
    .option('--base-model <id>', 'base model to fine-tune (default: the top model retrieval finds; required with --backend openai)')
    .option('--index <file>', 'model index (.json saved index or .jsonl cards) for offline model retrieval (default: the live Hub, cached)')
    .addOption(new Option('--top-k <n>', 'base-model candidates to keep').argParser(parseNumber('--top-k', { integer: true, min: 1 })).default(5))
    .option('--max-size <size>', 'largest base model to consider, e.g. 3GB', '3GB')
    .option('--gpu-memory <size>', 'drop base models whose fine-tuning would not fit this GPU memory, e.g. 24GB')
    .option('--no-hyde', 'query model cards with the instruction instead of a teacher-written hypothetical card')
    .option('--no-train', 'stop after data generation and model retrieval')
    .option('--no-evaluate', 'skip evaluation of the trained model')
    .option('--no-calibrate', 'skip the student→teacher cascade calibration on the validation split (one teacher call per validation example)')
    .addOption(new Option('--target-quality <share>', "the cascade's default threshold keeps this share of the teacher's quality").argParser(parseNumber('--target-quality', { min: 0.01, max: 1 })).default(0.99))
    .option('--metrics <list>', 'evaluation metrics, e.g. em,chrf++ (default: chosen from the task type)')
    .addOption(new Option('--max-eval-examples <n>', 'evaluate on the first N test examples only').argParser(parseNumber('--max-eval-examples', { integer: true, min: 1 })))
    .option('--estimate-only', "print the whole run's expected teacher tokens, cost and training cost/time, then stop (no paid call)", false)
    .option('--accept-fewer-examples', 'train even when generation stopped far short of --num-examples (by default training stops below half)', false)
    .option('--no-preflight', 'skip the checks of teacher, training backend, model index and run folder before the first paid call')
    .option('--no-report', 'do not write report.md / report.json / report.html into the run folder')
    .option('--no-retrieve-datasets', 'train on generated data only (no Hugging Face dataset retrieval)')
    .option('--dataset-index <file>', 'dataset snapshot (.jsonl of {id, description, evaluationMetadata}) for offline dataset search (default: the live Hub listing, cached)')
    .option('--dataset <id>', 'use this Hugging Face dataset instead of searching')
    .addOption(new Option('--dataset-exclude <ids>', 'datasets never to retrieve, comma-separated (e.g. the ones you evaluate on)').argParser((value) => value.split(',').map((id) => id.trim()).filter(Boolean)))
    .addOption(new Option('--dataset-input <paths>', 'input column path(s) of the retrieved dataset, comma-separated (default: chosen by the teacher)').argParser((value) => value.split(',').map((path) => path.trim()).filter(Boolean)))
    .option('--dataset-output <path>', 'output column path of the retrieved dataset, e.g. answers.text[0]')
    .addOption(new Option('--max-rows <n>', 'most retrieved rows (training data only)').argParser(parseNumber('--max-rows', { integer: true, min: 1 })).default(3000));
  addLabelVoteOptions(command);
  addTrainingOptions(command).action(
    runtime.action(async (_options: RunOptions, cmd: Command) => {
      const options = runtime.options<RunOptions>(cmd);
      if (!options.out) {
        throw new CliUsageError('run needs --out DIR: the run folder that holds every artifact and makes the run resumable', 'e.g. prompt2model run --prompt task.txt --out runs/my-task');
      }
      if (options.backend === 'openai' && options.train && !options.baseModel) {
        throw new CliUsageError('--backend openai needs --base-model (an OpenAI model that supports fine-tuning)', 'e.g. --base-model gpt-4o-mini-2024-07-18');
      }
      // Flags checked together before anything else (a bad one fails here, not after preflight).
      const labelVotes = labelVoteSettings(options);
      checkExampleTarget(options);
      const prompt = await readPromptFile(options.prompt);
      const { checkPromptText, checkPromptBudget, promptTokenBudget, DeterministicPromptParser } = await import('@prompt2model/prompt-parser/internal');
      const { defaultLLMCacheDir, LanguageModelClient, RUN_FILES, TrainingJobSpecSchema, writeJsonAtomic } = await import('@prompt2model/core/internal');
      const teacher = await runtime.teacherModel(options);
      // Bounded input first: a prompt too large for the teacher fails here, in milliseconds.
      const promptText = checkPromptText(prompt);
      checkPromptBudget(promptText, promptTokenBudget(new LanguageModelClient({ model: teacher })), teacher.modelId);
      const maxSizeBytes = options.maxSize === 'none' ? null : parseSize(options.maxSize);
      const trainerBackend = await createTrainingBackend(options, runtime);
      const modelRetrieverOptions = {
        ...(options.index ? { index: options.index } : {}),
        hyde: options.hyde ? ('auto' as const) : false,
        maxSizeBytes,
        trainingMethod: options.method,
        ...(options.gpuMemory ? { gpuMemoryBytes: parseSize(options.gpuMemory) } : {}),
      };
      const evaluatorOptions = {
        ...(options.metrics ? { metrics: options.metrics } : {}),
        ...(options.maxEvalExamples ? { maxExamples: options.maxEvalExamples } : {}),
      };
      const training = {
        method: options.method,
        evalEachEpoch: options.eval,
        ...trainingSettings(options),
        ...(options.baseModel ? { baseModel: baseModelId(options.baseModel) } : {}),
      };
      const retrieveModels = !(options.baseModel || options.backend === 'openai');

      const { estimateRun, formatRunEstimate } = await import('../run/estimate.js');
      const split = new DeterministicPromptParser().split(promptText);
      const countTokens = await teacher.tokenCounter?.();
      const jobForEstimate = TrainingJobSpecSchema.parse({ ...training, baseModel: training.baseModel ?? 'base-model', data: { train: RUN_FILES.train } });
      // The backend's own quote (a provider's hardware price list, a dry run) when it has one: free, starts nothing.
      const quoted = options.train ? await trainerBackend.quote?.(jobForEstimate, { signal: runtime.signal }) : undefined;
      const estimate = estimateRun({
        ...(countTokens ? { countTokens } : {}),
        spec: { instruction: split?.instruction ?? promptText, examples: split?.examples ?? [], language: 'und' },
        parsedWithoutTeacher: split !== undefined,
        prompt: promptText,
        teacher: teacher.modelId,
        numExamples: options.numExamples,
        hyde: options.hyde && retrieveModels,
        train: options.train,
        evaluate: options.evaluate,
        calibrate: options.calibrate,
        ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
        generator: { maxChoicesPerRequest: teacher.maxChoicesPerRequest ?? 1, ...(options.samplesPerInput ? { samplesPerInput: options.samplesPerInput } : {}) },
        backend: trainerBackend,
        job: jobForEstimate,
        ...(quoted ? { pricing: quoted } : {}),
      });
      if (options.estimateOnly) {
        runtime.print(options, estimate, () => formatRunEstimate(estimate));
        return;
      }
      if (!estimate.withinBudget) {
        runtime.io.stderr(`warning: the estimate ($${estimate.totalUsd.toFixed(4)}) is over --max-cost ($${options.maxCost!.toFixed(4)}); the run stops at the cap (resume later with a higher --max-cost).\n`);
      }
      if (options.preflight) {
        // The checks createPipeline runs for a library caller, run here before the estimate is written.
        const { pipelinePreflightChecks, preflightTimeout, runPreflight } = await import('../run/preflight.js');
        // The Hub when model retrieval will list it; a base model given by hand is checked now, not
        // 20-50 s into training. (Dataset retrieval only adds to generated data: an unreachable Hub
        // skips it with a warning.)
        const hubAccess = hubAccessFrom({}, runtime.io.env);
        const checks = pipelinePreflightChecks({
          outDir: options.out,
          teacher,
          // The settings of the teacher's own provider (`hf:` needs HF_TOKEN, not OpenAI's key).
          teacherMissingSetting: await runtime.missingTeacherSetting(options),
          teacherTimeoutMs: preflightTimeout(options).timeoutMs,
          ...(options.index && retrieveModels ? { modelIndex: options.index } : {}),
          ...(retrieveModels && !options.index ? { hub: { access: hubAccess, needs: 'model retrieval' } } : {}),
          ...(options.datasetIndex && options.retrieveDatasets && !options.dataset ? { datasetIndex: options.datasetIndex } : {}),
          ...(options.train && options.backend !== 'openai' && options.baseModel ? { baseModel: { name: options.baseModel, access: hubAccess } } : {}),
          ...(options.train ? { training: { backend: trainerBackend, numExamples: options.numExamples } } : {}),
        });
        await runPreflight(checks, runtime.signal);
      }

      const datasetRetrieverOptions = {
        ...retrieverConfig({ ...options, index: options.datasetIndex, exclude: options.datasetExclude, includeGated: false, limit: 1000 }, runtime),
        ...(options.dataset ? { dataset: options.dataset } : {}),
        ...(options.datasetInput || options.datasetOutput ? { mapping: { ...(options.datasetInput ? { input: options.datasetInput } : {}), ...(options.datasetOutput ? { output: options.datasetOutput } : {}) } } : {}),
        maxRows: options.maxRows,
      };
      const { createPipeline } = await import('../create-pipeline.js');
      const pipeline = createPipeline({
        outDir: options.out,
        teacher,
        events: runtime.progressEvents(options),
        signal: runtime.signal,
        scheduler: runtime.schedulerOptions(options),
        // One LLM cache in the user's cache directory: a new --out or a lost manifest pays nothing twice.
        cacheDir: defaultLLMCacheDir(runtime.io.env),
        ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
        numExamples: options.numExamples,
        topKModels: options.topK,
        acceptFewerExamples: options.acceptFewerExamples,
        maxRetrievedExamples: options.maxRows,
        calibration: options.calibrate ? { targetQuality: options.targetQuality } : false,
        config: { command: 'run', prompt: options.prompt, teacher: options.teacher, numExamples: options.numExamples, backend: options.backend },
        training,
        trainerBackend,
        preflight: false,
        ...exportSettings(options),
        stepInputs: { 'retrieve-datasets': datasetRetrieverOptions, generate: labelVotes, 'retrieve-models': modelRetrieverOptions, evaluate: evaluatorOptions, train: { backend: options.backend }, calibrate: { metrics: options.metrics ?? null } },
        stageOptions: {
          datasetRetriever: datasetRetrieverOptions,
          datasetGenerator: labelVotes,
          modelRetriever: modelRetrieverOptions,
          evaluator: evaluatorOptions,
          predict: {
            ...predictSettings(options, runtime),
            ...(options.maxTargetLength ? { maxNewTokens: options.maxTargetLength } : {}),
            ...(options.maxSourceLength ? { maxSourceLength: options.maxSourceLength } : {}),
          },
        },
        stages: {
          // A base model given by hand (always so for managed fine-tuning) needs no retrieval.
          ...(retrieveModels ? {} : { modelRetriever: null }),
          ...(options.retrieveDatasets ? {} : { datasetRetriever: null }),
          ...(options.train ? {} : { trainer: null }),
          ...(options.evaluate ? {} : { evaluator: null }),
          // The CLI run ends when training and evaluation do; `prompt2model demo --out RUN` serves the model.
          demoCreator: null,
        },
      });
      const { RunRecorder } = await import('../run/recorder.js');
      const { ESTIMATE_FILE } = await import('../run/report.js');
      const recorder = await RunRecorder.open(options.out);
      const detach = recorder.attach(pipeline.events);
      await writeJsonAtomic(join(options.out, ESTIMATE_FILE), estimate);
      let result: PipelineResult;
      try {
        result = await pipeline.run(prompt);
      } finally {
        detach();
        await recorder.save().catch(() => undefined);
      }
      let reportPaths: { json: string; markdown: string; html: string } | undefined;
      if (options.report) {
        const { buildRunReport, writeRunReport } = await import('../run/report.js');
        const notes = options.metrics || !result.evalReport || result.evalReport.metrics.bertscore !== undefined || result.spec.taskType !== 'generation'
          ? []
          : ['BERTScore left out: no local encoder here (`prompt2model eval --bertscore-model DIR` scores it with one).'];
        const report = await buildRunReport(result.outDir, { ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}), baseModelGiven: Boolean(options.baseModel), notes });
        reportPaths = await writeRunReport(result.outDir, report);
      }
      const cascadeLines = result.calibration ? (await import('../run/report-markdown.js')).describeCalibration(result.calibration) : [];
      runtime.print(options, { ...summarize(result), ...(reportPaths ? { report: reportPaths } : {}) }, () => describe(result, reportPaths, cascadeLines));
    }),
  );
}

function summarize(result: PipelineResult) {
  const { demo: _demo, ...rest } = result;
  return rest;
}

function describe(result: PipelineResult, report: { html: string } | undefined, cascadeLines: string[]): string {
  const lines = [`Run folder: ${result.outDir}`, `Task: ${result.spec.instruction.slice(0, 120)}${result.spec.instruction.length > 120 ? '…' : ''}`];
  if (result.retrievedCount !== undefined) lines.push(`Retrieved examples: ${result.retrievedCount} (training data only)`);
  if (result.generatedCount !== undefined) lines.push(`Generated examples: ${result.generatedCount}`);
  if (result.splits) lines.push(`Splits: ${result.splits.counts.train} train, ${result.splits.counts.validation} validation, ${result.splits.counts.test} test`);
  if (result.candidates?.length) lines.push(`Base-model candidates: ${result.candidates.map((c) => c.id).join(', ')}`);
  if (result.trainedModel) lines.push(`Trained model: ${result.trainedModel.reference} (${result.trainedModel.method} on ${result.trainedModel.baseModel})`);
  if (result.evalReport) {
    const metrics = Object.entries(result.evalReport.metrics)
      .map(([name, value]) => `${name} ${value.toFixed(4)}`)
      .join(', ');
    lines.push(`Evaluation on ${result.evalReport.count} test examples: ${metrics}`);
  }
  if (result.teacherReport) {
    const metrics = Object.entries(result.teacherReport.metrics)
      .map(([name, value]) => `${name} ${value.toFixed(4)}`)
      .join(', ');
    lines.push(`Teacher on the same test set: ${metrics}`);
  }
  lines.push(...cascadeLines);
  if (report) lines.push(`Report: ${report.html} (also report.md, report.json)`);
  lines.push(`Cost: $${result.costUsd.toFixed(4)}`);
  return lines.join('\n');
}

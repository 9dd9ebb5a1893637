import { Option, type Command } from 'commander';
import type { PipelineResult } from '@prompt2model/core';
import { readPromptFile } from '../flags/input.js';
import { addTrainingOptions, baseModelId, createTrainingBackend, exportSettings, predictSettings, trainingSettings, type TrainingFlags } from '../flags/training.js';
import { CliUsageError, parseNumber, parseSize, type CliRuntime } from '../runtime.js';
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
  metrics?: string;
  maxEvalExamples?: number;
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
    .addOption(new Option('--num-examples <n>', 'generated examples to aim for').argParser(parseNumber('--num-examples', { integer: true, min: 1 })).default(200))
    .option('--base-model <id>', 'base model to fine-tune (default: the top model retrieval finds; required with --backend openai)')
    .option('--index <file>', 'model index (.json saved index or .jsonl cards) for offline model retrieval (default: the live Hub, cached)')
    .addOption(new Option('--top-k <n>', 'base-model candidates to keep').argParser(parseNumber('--top-k', { integer: true, min: 1 })).default(5))
    .option('--max-size <size>', 'largest base model to consider, e.g. 3GB', '3GB')
    .option('--gpu-memory <size>', 'drop base models whose fine-tuning would not fit this GPU memory, e.g. 24GB')
    .option('--no-hyde', 'query model cards with the instruction instead of a teacher-written hypothetical card')
    .option('--no-train', 'stop after data generation and model retrieval')
    .option('--no-evaluate', 'skip evaluation of the trained model')
    .option('--metrics <list>', 'evaluation metrics, e.g. em,chrf++ (default: chosen from the task type)')
    .addOption(new Option('--max-eval-examples <n>', 'evaluate on the first N test examples only').argParser(parseNumber('--max-eval-examples', { integer: true, min: 1 })));
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
      const prompt = await readPromptFile(options.prompt);
      const maxSizeBytes = options.maxSize === 'none' ? null : parseSize(options.maxSize);
      const { createPipeline } = await import('../create-pipeline.js');
      const pipeline = createPipeline({
        outDir: options.out,
        teacher: await runtime.teacherModel(options),
        events: runtime.progressEvents(options),
        signal: runtime.signal,
        scheduler: runtime.schedulerOptions(options),
        ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}),
        numExamples: options.numExamples,
        topKModels: options.topK,
        config: { command: 'run', prompt: options.prompt, teacher: options.teacher, numExamples: options.numExamples, backend: options.backend },
        training: {
          method: options.method,
          evalEachEpoch: options.eval,
          ...trainingSettings(options),
          ...(options.baseModel ? { baseModel: baseModelId(options.baseModel) } : {}),
        },
        trainerBackend: await createTrainingBackend(options, runtime),
        ...exportSettings(options),
        stageOptions: {
          datasetGenerator: labelVoteSettings(options),
          modelRetriever: {
            ...(options.index ? { index: options.index } : {}),
            hyde: options.hyde ? 'auto' : false,
            maxSizeBytes,
            trainingMethod: options.method,
            ...(options.gpuMemory ? { gpuMemoryBytes: parseSize(options.gpuMemory) } : {}),
          },
          evaluator: {
            ...(options.metrics ? { metrics: options.metrics } : {}),
            ...(options.maxEvalExamples ? { maxExamples: options.maxEvalExamples } : {}),
          },
          predict: {
            ...predictSettings(options, runtime),
            ...(options.maxTargetLength ? { maxNewTokens: options.maxTargetLength } : {}),
            ...(options.maxSourceLength ? { maxSourceLength: options.maxSourceLength } : {}),
          },
        },
        stages: {
          // A base model given by hand (always so for managed fine-tuning) needs no retrieval.
          ...(options.baseModel || options.backend === 'openai' ? { modelRetriever: null } : {}),
          ...(options.train ? {} : { trainer: null }),
          ...(options.evaluate ? {} : { evaluator: null }),
          // The CLI run ends when training and evaluation do; `prompt2model demo --out RUN` serves the model.
          demoCreator: null,
        },
      });
      const result = await pipeline.run(prompt);
      runtime.print(options, summarize(result), () => describe(result));
    }),
  );
}

function summarize(result: PipelineResult) {
  const { demo: _demo, ...rest } = result;
  return rest;
}

function describe(result: PipelineResult): string {
  const lines = [`Run folder: ${result.outDir}`, `Task: ${result.spec.instruction.slice(0, 120)}${result.spec.instruction.length > 120 ? '…' : ''}`];
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
  lines.push(`Cost: $${result.costUsd.toFixed(4)}`);
  return lines.join('\n');
}

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  DatasetSplitsSchema,
  hashValue,
  PromptSpecSchema,
  runStep,
  splitDatasetFiles,
  TrainedModelSchema,
  type StageContext,
  type TrainedModel,
  type TrainingJobSpecInput,
} from '@prompt2model/core';
import {
  CommandBackend,
  createTrainer,
  LocalBackend,
  OpenAIFineTuningBackend,
  type TrainingBackend,
} from '@prompt2model/trainer';
import { CliUsageError, parseNumber, type CliRuntime, type GlobalOptions } from '../runtime.js';
import { offerPythonSetup } from '../python-setup-offer.js';

interface TrainOptions extends TrainingFlags {
  data: string;
  baseModel: string;
  estimateOnly: boolean;
  instruction?: string;
}

/** Flags of `addTrainingOptions`. */
export interface TrainingFlags {
  backend: 'local' | 'openai' | 'command';
  method: 'lora' | 'full';
  epochs?: number;
  architecture?: 'encoder-decoder' | 'decoder-only';
  learningRate?: number;
  batchSize?: number;
  gradientAccumulation?: number;
  maxSourceLength?: number;
  maxTargetLength?: number;
  seed?: number;
  precision?: 'bf16' | 'fp16' | 'fp32';
  loraR?: number;
  loraAlpha?: number;
  loraDropout?: number;
  loraTargets?: string;
  earlyStopping?: number;
  eval: boolean;
  /** local/command: export the trained model to ONNX (default on; `--no-export`). */
  export?: boolean;
  // local
  python?: string;
  launcher?: 'python' | 'accelerate' | 'torchrun';
  gpus?: number;
  gpuPrice?: number;
  gpuTokensPerSecond?: number;
  // openai
  pollInterval?: number;
  suffix?: string;
  lrMultiplier?: number;
  trainingPrice?: number;
  cancelRemote: boolean;
  // command
  launch?: string;
  attach?: string;
  cancelCommand?: string;
  syncUp?: string;
  syncDown?: string;
}

/**
 * `prompt2model train --backend local|openai|command --data DIR --base-model ID [--out DIR]`:
 * validates the job and the data, prints the cost/time estimate (checked against --max-cost),
 * trains with progress, and prints the trained model's reference. Rerunning with the same --out
 * re-attaches to the job (remote id or last checkpoint) instead of starting over.
 */
export function register(program: Command, runtime: CliRuntime): void {
  const command = program
    .command('train')
    .description('Fine-tune a base model on DIR/train.jsonl (+ validation.jsonl): local GPU worker, OpenAI fine-tuning, or a remote command')
    .requiredOption('--data <dir>', 'folder with train.jsonl and optionally validation.jsonl (a run folder from `generate` works)')
    .requiredOption('--base-model <id>', 'Hugging Face model id or local folder (local/command), or an OpenAI model (openai)')
    .option('--estimate-only', 'validate and print the cost/time estimate, then stop', false)
    .option('--instruction <text>', 'task instruction prepended to inputs (default: DIR/prompt-spec.json)');
  addTrainingOptions(command)
    .action(
      runtime.action(async (_options: TrainOptions, command: Command) => {
        const options = runtime.options<TrainOptions>(command);
        const dataDir = resolve(options.data);
        const hasSplits = existsSync(join(dataDir, 'train.jsonl'));
        if (!hasSplits && !existsSync(join(dataDir, 'dataset.jsonl'))) {
          throw new CliUsageError(
            `No train.jsonl (or dataset.jsonl) in ${dataDir}`,
            'Point --data at a folder with train.jsonl (and optionally validation.jsonl), or the run folder of `generate`.',
          );
        }
        const context = await runtime.createContext(options, {
          teacher: false,
          outDir: options.out ?? dataDir,
          config: { command: 'train', backend: options.backend, baseModel: options.baseModel, method: options.method, data: dataDir },
        });
        // A `generate` run folder holds dataset.jsonl: split it like the pipeline does (by input hash,
        // so no input is in two splits), keeping test.jsonl for `eval`.
        const splitDir = hasSplits ? dataDir : await splitGenerated(dataDir, context);
        const train = join(splitDir, 'train.jsonl');
        const validation = join(splitDir, 'validation.jsonl');
        const instruction = options.instruction ?? (await instructionFrom(dataDir));
        const job: TrainingJobSpecInput = {
          baseModel: options.baseModel,
          method: options.method,
          instruction: instruction ?? '',
          evalEachEpoch: options.eval,
          data: { train, ...(existsSync(validation) && (await hasRows(validation)) ? { validation } : {}) },
          ...trainingSettings(options),
        };
        const backend = createBackend(options, runtime);
        const trainer = createTrainer({ backend, ...exportSettings(options) });
        const prepared = await trainer.prepare(job, context);
        if (instruction === undefined) context.events.log('warn', 'No instruction (no --instruction, no prompt-spec.json in --data): inputs are trained without one.', 'train');

        if (options.estimateOnly) {
          const remaining = context.ledger.remainingUsd;
          const withinBudget = prepared.estimate.usd <= remaining;
          runtime.print(options, { estimate: prepared.estimate, job: prepared.job, withinBudget }, () =>
            [prepared.summary, ...(Number.isFinite(remaining) ? [`  --max-cost: ${withinBudget ? 'within' : 'OVER'} the remaining $${remaining.toFixed(2)}`] : [])].join('\n'),
          );
          return;
        }
        if (options.backend === 'local') await offerPythonSetup(runtime, options);
        // A finished training of a different job (other model, data or settings) is not reused.
        const stored = await context.store.readJson<{ jobHash?: string }>('training/handle.json').catch(() => undefined);
        if (context.store.isDone('train') && stored?.jobHash !== hashValue(prepared.job)) await context.store.resetStage('train');
        const model = await runStep(context, 'train', 'trained-model.json', TrainedModelSchema, () => trainer.train(prepared.job, context));
        await context.store.saveCost(context.ledger.snapshot());
        runtime.print(options, model, () => describe(model, options));
      }),
    );
}

/** The job's hyperparameters from the flags (data, base model and instruction are added by the verb). */
export function trainingSettings(options: TrainingFlags): Partial<TrainingJobSpecInput> {
  return {
    ...(options.architecture ? { architecture: options.architecture } : {}),
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.gradientAccumulation !== undefined ? { gradientAccumulationSteps: options.gradientAccumulation } : {}),
    ...(options.maxSourceLength !== undefined ? { maxSourceLength: options.maxSourceLength } : {}),
    ...(options.maxTargetLength !== undefined ? { maxTargetLength: options.maxTargetLength } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.precision ? { precision: options.precision } : {}),
    ...(options.earlyStopping !== undefined ? { earlyStoppingPatience: options.earlyStopping } : {}),
    lora: {
      r: options.loraR ?? 8,
      alpha: options.loraAlpha ?? 16,
      dropout: options.loraDropout ?? 0.05,
      ...(options.loraTargets ? { targetModules: options.loraTargets.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
    },
  };
}

/** The ONNX export after local/command training (`--no-export` turns it off): fp32 and q8. */
export function exportSettings(options: TrainingFlags): { exportOnnx?: { quantize: 'q8'; python?: string } } {
  if (options.export === false || options.backend === 'openai') return {};
  return { exportOnnx: { quantize: 'q8', ...(options.python ? { python: options.python } : {}) } };
}

/** Training flags shared by `train` and `run`: method, hyperparameters, and each backend's settings. */
export function addTrainingOptions(command: Command): Command {
  return command
    .addOption(new Option('--backend <name>', 'where to train').choices(['local', 'openai', 'command']).default('local'))
    .addOption(new Option('--method <method>', 'LoRA adapters or full fine-tuning').choices(['lora', 'full']).default('lora'))
    .addOption(new Option('--epochs <n>', 'training epochs (default 3)').argParser(parseNumber('--epochs')))
    .addOption(new Option('--architecture <kind>', 'override the detected architecture').choices(['encoder-decoder', 'decoder-only']))
    .addOption(new Option('--learning-rate <lr>', 'learning rate (default 3e-4)').argParser(parseNumber('--learning-rate')))
    .addOption(new Option('--batch-size <n>', 'per-device batch size (default 8)').argParser(parseNumber('--batch-size', { integer: true, min: 1 })))
    .addOption(new Option('--gradient-accumulation <n>', 'gradient accumulation steps (default 1)').argParser(parseNumber('--gradient-accumulation', { integer: true, min: 1 })))
    .addOption(new Option('--max-source-length <n>', 'max input tokens (default 512)').argParser(parseNumber('--max-source-length', { integer: true, min: 1 })))
    .addOption(new Option('--max-target-length <n>', 'max output tokens (default 128)').argParser(parseNumber('--max-target-length', { integer: true, min: 1 })))
    .addOption(new Option('--seed <n>', 'random seed (default 42)').argParser(parseNumber('--seed', { integer: true })))
    .addOption(new Option('--precision <p>', 'mixed precision (default bf16, falling back when unsupported)').choices(['bf16', 'fp16', 'fp32']))
    .addOption(new Option('--lora-r <n>', 'LoRA rank (default 8)').argParser(parseNumber('--lora-r', { integer: true, min: 1 })))
    .addOption(new Option('--lora-alpha <n>', 'LoRA alpha (default 16)').argParser(parseNumber('--lora-alpha')))
    .addOption(new Option('--lora-dropout <p>', 'LoRA dropout (default 0.05)').argParser(parseNumber('--lora-dropout')))
    .option('--lora-targets <modules>', 'comma-separated LoRA target modules (default: the attention projections)')
    .addOption(new Option('--early-stopping <n>', 'evaluations without improvement before stopping; 0 disables (default 2)').argParser(parseNumber('--early-stopping', { integer: true })))
    .option('--no-eval', 'skip evaluation each epoch')
    .option('--no-export', 'local/command: skip the ONNX export (transformers.js layout, fp32 + q8) after training')
    .option('--python <path>', 'local: Python interpreter with torch, transformers and peft (default $P2M_PYTHON or python3)')
    .addOption(new Option('--launcher <how>', 'local: one process, or accelerate/torchrun for several GPUs').choices(['python', 'accelerate', 'torchrun']))
    .addOption(new Option('--gpus <n>', 'local/command: GPUs to use (and to price)').argParser(parseNumber('--gpus', { integer: true, min: 1 })))
    .addOption(new Option('--gpu-price <usd>', 'local/command: USD per GPU-hour for the estimate (default 0 local, 2 command)').argParser(parseNumber('--gpu-price')))
    .addOption(new Option('--gpu-tokens-per-second <n>', 'local/command: assumed training throughput per GPU (default 5000)').argParser(parseNumber('--gpu-tokens-per-second', { min: 1 })))
    .addOption(new Option('--poll-interval <seconds>', 'openai: seconds between status polls (default 15)').argParser(parseNumber('--poll-interval')))
    .option('--suffix <text>', 'openai: suffix of the fine-tuned model name')
    .addOption(new Option('--lr-multiplier <x>', 'openai: learning-rate multiplier (default auto)').argParser(parseNumber('--lr-multiplier')))
    .addOption(new Option('--training-price <usd>', 'openai: USD per 1M training tokens, for models not in the price table').argParser(parseNumber('--training-price')))
    .option('--cancel-remote', 'openai: cancel the remote job on Ctrl-C (default: keep it running and re-attach on rerun)', false)
    .option('--launch <cmd>', 'command: starts the worker remotely; its stdout carries the JSON-lines events ({jobDir} {jobName} {config} {workerDir})')
    .option('--attach <cmd>', 'command: re-attaches to a running remote job after a restart ({remoteJobId})')
    .option('--cancel-command <cmd>', 'command: stops the remote job on Ctrl-C ({remoteJobId})')
    .option('--sync-up <cmd>', 'command: copies the job folder to the remote machine before launch')
    .option('--sync-down <cmd>', 'command: copies the remote output/ back into {jobDir}/output when done');
}

/** The training backend the flags name (`--backend local|openai|command`). */
export function createBackend(options: TrainingFlags & GlobalOptions & { baseModel?: string }, runtime: CliRuntime): TrainingBackend {
  const gpu = {
    ...(options.gpus !== undefined ? { gpus: options.gpus } : {}),
    ...(options.gpuPrice !== undefined ? { gpuHourlyUsd: options.gpuPrice } : {}),
    ...(options.gpuTokensPerSecond !== undefined ? { tokensPerSecondPerGpu: options.gpuTokensPerSecond } : {}),
  };
  switch (options.backend) {
    case 'openai': {
      const baseURL = options.baseUrl ?? runtime.io.env.OPENAI_BASE_URL;
      const apiKey = runtime.io.env.OPENAI_API_KEY;
      return new OpenAIFineTuningBackend({
        ...(baseURL ? { baseURL } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(options.pollInterval !== undefined ? { pollIntervalMs: options.pollInterval * 1000 } : {}),
        ...(options.suffix ? { suffix: options.suffix } : {}),
        ...(options.lrMultiplier !== undefined ? { learningRateMultiplier: options.lrMultiplier } : {}),
        ...(options.trainingPrice !== undefined && options.baseModel ? { trainingPrices: { [options.baseModel]: options.trainingPrice } } : {}),
        cancelOnAbort: options.cancelRemote,
      });
    }
    case 'command':
      if (!options.launch) {
        throw new CliUsageError('--backend command needs --launch', `e.g. --launch "ssh gpu 'cd jobs/{jobName} && python -m p2m_worker --config {config}'"`);
      }
      return new CommandBackend({
        launch: options.launch,
        ...(options.attach ? { attach: options.attach } : {}),
        ...(options.cancelCommand ? { cancel: options.cancelCommand } : {}),
        ...(options.syncUp ? { syncUp: options.syncUp } : {}),
        ...(options.syncDown ? { syncDown: options.syncDown } : {}),
        ...gpu,
      });
    default:
      return new LocalBackend({
        ...(options.python ? { python: options.python } : {}),
        ...(options.launcher ? { launcher: options.launcher } : {}),
        ...(runtime.io.env.P2M_WORKER_COMMAND ? { workerCommand: workerCommandFrom(runtime.io.env.P2M_WORKER_COMMAND) } : {}),
        ...gpu,
      });
  }
}

/** P2M_WORKER_COMMAND / P2M_PREDICT_COMMAND: a JSON array argv of a custom worker speaking the same protocol. */
export function workerCommandFrom(text: string, variable = 'P2M_WORKER_COMMAND'): string[] {
  try {
    const argv = JSON.parse(text) as unknown;
    if (Array.isArray(argv) && argv.length > 0 && argv.every((part) => typeof part === 'string')) return argv as string[];
  } catch {
    // Reported below.
  }
  throw new CliUsageError(`${variable} must be a JSON array of strings`, `e.g. ${variable}='["/opt/venv/bin/python", "-m", "p2m_worker"]'`);
}

/** Splits DIR/dataset.jsonl into train/validation/test.jsonl in the run folder (once; recorded as the `split` step, as the Pipeline does). */
async function splitGenerated(dataDir: string, context: StageContext): Promise<string> {
  await runStep(context, 'split', 'splits.json', DatasetSplitsSchema, async () => {
    const { duplicates: _duplicates, ...splits } = await splitDatasetFiles({
      outDir: context.store.dir,
      sources: [{ path: join(dataDir, 'dataset.jsonl'), source: 'generated' }],
    });
    const { counts } = splits;
    context.events.log('info', `Split ${counts.train + counts.validation + counts.test} generated examples: ${counts.train} train, ${counts.validation} validation, ${counts.test} test.`, 'split');
    return splits;
  });
  return context.store.dir;
}

async function hasRows(path: string): Promise<boolean> {
  return (await readFile(path, 'utf8')).trim() !== '';
}

/** The instruction of the run folder's prompt-spec.json, when `generate`/`parse` left one. */
async function instructionFrom(dir: string): Promise<string | undefined> {
  const path = join(dir, 'prompt-spec.json');
  if (!existsSync(path)) return undefined;
  const parsed = PromptSpecSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  return parsed.success ? parsed.data.instruction : undefined;
}

function describe(model: TrainedModel, options: TrainOptions): string {
  const metrics = Object.entries(model.metrics)
    .filter(([key]) => /loss|costUsd|trainedTokens|tokens_per_second/.test(key))
    .map(([key, value]) => `${key}=${Number(value.toPrecision(4))}`)
    .join(' ');
  const lines = [`Trained model (${options.backend}, ${model.method}): ${model.reference}`];
  if (metrics) lines.push(`  ${metrics}`);
  if (model.kind === 'local-folder' && model.artifacts.adapter) lines.push(`  adapter: ${model.artifacts.adapter}`);
  return lines.join('\n');
}

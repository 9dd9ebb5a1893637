import { Option, type Command } from 'commander';
import { parseModelName } from '@prompt2model/core/registry';
import { loadSetting } from '@prompt2model/core/settings';
import type { TrainingJobSpecInput } from '@prompt2model/core/internal';
import type { TrainerBackend } from '@prompt2model/core/internal';
import { trainingBackends, type TrainingBackendSettings } from '../registry/training-backends.js';
import { askAboutRemoteJob } from '../remote-job-interrupt.js';
import { CliUsageError, parseNumber, type CliRuntime, type GlobalOptions } from '../runtime.js';

/** Flags of `addTrainingOptions`, shared by `train` and `run`. */
export interface TrainingFlags {
  backend: string;
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
  threads?: number;
  gpuPrice?: number;
  gpuTokensPerSecond?: number;
  // openai
  pollInterval?: number;
  suffix?: string;
  lrMultiplier?: number;
  trainingPrice?: number;
  cancelRemote: boolean;
  // hf-jobs
  flavor?: string;
  image?: string;
  /** hf-jobs: install the pinned stack in the job (default on; `--no-install-requirements`). */
  installRequirements?: boolean;
  // command
  launch?: string;
  attach?: string;
  cancelCommand?: string;
  syncUp?: string;
  syncDown?: string;
  // skypilot
  accelerators?: string;
  nodes?: number;
  cloud?: string;
  bucket?: string;
  spot?: boolean;
  skySetup?: string;
}

/** Training flags shared by `train` and `run`: method, hyperparameters, and each backend's settings. */
export function addTrainingOptions(command: Command): Command {
  return command
    .addOption(new Option('--backend <name>', 'where to train').choices(trainingBackends.names()).default('local'))
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
    .option('--python <path>', 'local: Python interpreter with torch, transformers and peft (default $P2M_PYTHON, else the `prompt2model setup` environment, else python3)')
    .addOption(new Option('--launcher <how>', 'local: one process, or accelerate/torchrun for several GPUs').choices(['python', 'accelerate', 'torchrun']))
    .addOption(new Option('--gpus <n>', 'local/command: GPUs to use (and to price)').argParser(parseNumber('--gpus', { integer: true, min: 1 })))
    .addOption(threadsOption())
    .addOption(new Option('--gpu-price <usd>', 'local/command/skypilot: USD per GPU-hour for the estimate (default 0 local, 2 command, SkyPilot\'s dry-run price skypilot)').argParser(parseNumber('--gpu-price')))
    .addOption(new Option('--gpu-tokens-per-second <n>', 'local/command/skypilot: assumed training throughput per GPU (default 5000)').argParser(parseNumber('--gpu-tokens-per-second', { min: 1 })))
    .addOption(new Option('--poll-interval <seconds>', 'openai: seconds between status polls (default 15)').argParser(parseNumber('--poll-interval')))
    .option('--suffix <text>', 'openai: suffix of the fine-tuned model name')
    .addOption(new Option('--lr-multiplier <x>', 'openai: learning-rate multiplier (default auto)').argParser(parseNumber('--lr-multiplier')))
    .addOption(new Option('--training-price <usd>', 'openai: USD per 1M training tokens, for models not in the price table').argParser(parseNumber('--training-price')))
    .option('--cancel-remote', 'openai/skypilot/hf-jobs: cancel the remote job on Ctrl-C (default: it keeps running and a rerun re-attaches; skypilot and hf-jobs ask on a terminal)', false)
    .option('--flavor <name>', `hf-jobs: hardware flavor from the Hub's Jobs hardware list, e.g. t4-small, l4x1, a100-large (default ${'a10g-small'})`)
    .option('--image <ref>', 'hf-jobs: Docker image of the job (default: a pinned official PyTorch image; the job installs the pinned training stack over it)')
    .option('--no-install-requirements', 'hf-jobs: the image already has the training stack (torch, transformers, peft, huggingface_hub): skip installing it')
    .option('--launch <cmd>', 'command: starts the worker remotely; its stdout carries the JSON-lines events ({jobDir} {jobName} {config} {workerDir})')
    .option('--attach <cmd>', 'command: re-attaches to a running remote job after a restart ({remoteJobId})')
    .option('--cancel-command <cmd>', 'command: stops the remote job on Ctrl-C ({remoteJobId})')
    .option('--sync-up <cmd>', 'command: copies the job folder to the remote machine before launch')
    .option('--sync-down <cmd>', 'command: copies the remote output/ back into {jobDir}/output when done')
    .option('--accelerators <spec>', 'skypilot: accelerators per node, NAME:COUNT (e.g. A10G:1, H100:8; default CPU nodes)')
    .addOption(new Option('--nodes <n>', 'skypilot: machines to train on with torchrun (default 1)').argParser(parseNumber('--nodes', { integer: true, min: 1 })))
    .option('--cloud <infra>', 'skypilot: where to run, SkyPilot infra (aws, gcp/us-central1, k8s, k8s/<context>; default any enabled)')
    .option('--bucket <uri>', 'skypilot: s3://bucket/prefix or gs://bucket/prefix for checkpoints and the model (mounted on the nodes, copied back)')
    .option('--spot', 'skypilot: spot instances (the managed job recovers from preemptions from its last checkpoint)')
    .option('--sky-setup <cmd>', 'skypilot: replaces the setup that pip-installs the pinned training stack ("" for an image that has it)');
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
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    lora: {
      r: options.loraR ?? 8,
      alpha: options.loraAlpha ?? 16,
      dropout: options.loraDropout ?? 0.05,
      ...(options.loraTargets ? { targetModules: options.loraTargets.split(',').map((m) => m.trim()).filter(Boolean) } : {}),
    },
  };
}

/**
 * The base model id a backend trains from `--base-model`, which takes model names like every other
 * model flag: `hf:google/flan-t5-base` or a bare Hub id (local/command), `openai:gpt-4o-mini-2024-07-18`
 * or a bare OpenAI id (openai), or a local folder. The provider prefix names where the model comes
 * from; the backend gets the id.
 */
export function baseModelId(name: string): string {
  const parsed = parseModelName(name, { providers: ['openai', 'hf'], defaultProvider: 'openai' });
  return parsed.kind === 'local-folder' ? parsed.path : parsed.modelId;
}

/** Every backend's options from the flags and the environment; the registry hands each its own. */
export function trainingBackendSettings(options: TrainingFlags & GlobalOptions & { baseModel?: string }, runtime: CliRuntime): TrainingBackendSettings {
  const env = runtime.io.env;
  const gpu = {
    ...(options.gpus !== undefined ? { gpus: options.gpus } : {}),
    ...(options.gpuPrice !== undefined ? { gpuHourlyUsd: options.gpuPrice } : {}),
    ...(options.gpuTokensPerSecond !== undefined ? { tokensPerSecondPerGpu: options.gpuTokensPerSecond } : {}),
  };
  const workerCommand = loadSetting({ environmentVariableName: 'P2M_WORKER_COMMAND', env });
  return {
    local: {
      ...(options.python ? { python: options.python } : {}),
      ...(options.launcher ? { launcher: options.launcher } : {}),
      ...(workerCommand ? { workerCommand: commandFromSetting(workerCommand, 'P2M_WORKER_COMMAND') } : {}),
      ...gpu,
    },
    openai: {
      // The provider's factory resolves the endpoint and key from these (and OPENAI_* in env).
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      env,
      ...(options.pollInterval !== undefined ? { pollIntervalMs: options.pollInterval * 1000 } : {}),
      ...(options.suffix ? { suffix: options.suffix } : {}),
      ...(options.lrMultiplier !== undefined ? { learningRateMultiplier: options.lrMultiplier } : {}),
      ...(options.trainingPrice !== undefined && options.baseModel ? { trainingPrices: { [baseModelId(options.baseModel)]: options.trainingPrice } } : {}),
      cancelOnAbort: options.cancelRemote,
    },
    skypilot: {
      ...(options.bucket ? { bucket: options.bucket } : {}),
      ...(options.accelerators ? { accelerators: options.accelerators } : {}),
      ...(options.nodes !== undefined ? { nodes: options.nodes } : {}),
      ...(options.cloud ? { infra: options.cloud } : {}),
      ...(options.spot ? { useSpot: true } : {}),
      ...(options.skySetup !== undefined ? { setup: options.skySetup } : {}),
      ...(options.gpuPrice !== undefined ? { gpuHourlyUsd: options.gpuPrice } : {}),
      ...(options.gpuTokensPerSecond !== undefined ? { tokensPerSecondPerGpu: options.gpuTokensPerSecond } : {}),
      env,
      cancelOnAbort: options.cancelRemote || askToCancel(runtime),
    },
    'hf-jobs': {
      ...(options.flavor ? { flavor: options.flavor } : {}),
      ...(options.image ? { image: options.image } : {}),
      ...(options.installRequirements === false ? { installRequirements: false } : {}),
      ...optionalSetting('accessToken', loadSetting({ environmentVariableName: 'HF_TOKEN', env })),
      ...optionalSetting('hubUrl', loadSetting({ environmentVariableName: 'HF_ENDPOINT', env })),
      env,
      onInterrupt: options.cancelRemote ? async () => 'cancel' : askAboutRemoteJob(runtime),
    },
    command: {
      ...(options.launch ? { launch: options.launch } : {}),
      ...(options.attach ? { attach: options.attach } : {}),
      ...(options.cancelCommand ? { cancel: options.cancelCommand } : {}),
      ...(options.syncUp ? { syncUp: options.syncUp } : {}),
      ...(options.syncDown ? { syncDown: options.syncDown } : {}),
      ...gpu,
    },
  };
}

/**
 * Ctrl-C while a remote job runs, for backends that take a yes/no: on a terminal the one question
 * of `askAboutRemoteJob`; elsewhere leave it running (`--cancel-remote` cancels).
 */
function askToCancel(runtime: CliRuntime): boolean | ((jobId: string) => Promise<boolean>) {
  if (!runtime.io.isTTY || !process.stdin.isTTY) return false;
  const ask = askAboutRemoteJob(runtime);
  return async (jobId) => (await ask({ id: jobId, url: '' })) === 'cancel';
}

function optionalSetting<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

/** The training backend `--backend` names, from the registry. */
export function createTrainingBackend(options: TrainingFlags & GlobalOptions & { baseModel?: string }, runtime: CliRuntime): Promise<TrainerBackend> {
  return trainingBackends.create(options.backend, trainingBackendSettings(options, runtime));
}

/** `--threads N`: CPU threads of the Python worker (training, export, predict); default from the usable cores. */
export function threadsOption(): Option {
  return new Option('--threads <n>', 'CPU threads for torch in the Python worker (default: chosen from the cores it may use; env P2M_THREADS)').argParser(
    parseNumber('--threads', { integer: true, min: 1 }),
  );
}

/** The worker environment that carries `--threads` to export and predict workers (training reads it from the job). */
export function threadsEnv(options: { threads?: number }): { env?: Record<string, string> } {
  return options.threads !== undefined ? { env: { P2M_THREADS: String(options.threads) } } : {};
}

/** The ONNX export after local/command training (`--no-export` turns it off): fp32 and q8. */
export function exportSettings(options: TrainingFlags): { exportOnnx: false | { quantize: 'q8'; python?: string; env?: Record<string, string> } } {
  if (options.export === false || options.backend === 'openai') return { exportOnnx: false };
  return { exportOnnx: { quantize: 'q8', ...(options.python ? { python: options.python } : {}), ...threadsEnv(options) } };
}

/** Predict-worker settings (`--python`, `--threads`, P2M_PREDICT_COMMAND) for local PyTorch models. */
export function predictSettings(options: { python?: string; threads?: number }, runtime: CliRuntime): { python?: string; workerCommand?: string[]; env?: Record<string, string> } {
  const command = loadSetting({ environmentVariableName: 'P2M_PREDICT_COMMAND', env: runtime.io.env });
  return {
    ...(options.python ? { python: options.python } : {}),
    ...(command ? { workerCommand: commandFromSetting(command, 'P2M_PREDICT_COMMAND') } : {}),
    ...threadsEnv(options),
  };
}

/** P2M_WORKER_COMMAND / P2M_PREDICT_COMMAND: a JSON array argv of a custom worker speaking the same protocol. */
export function commandFromSetting(text: string, variable: 'P2M_WORKER_COMMAND' | 'P2M_PREDICT_COMMAND'): string[] {
  try {
    const argv = JSON.parse(text) as unknown;
    if (Array.isArray(argv) && argv.length > 0 && argv.every((part) => typeof part === 'string')) return argv as string[];
  } catch {
    // Reported below.
  }
  throw new CliUsageError(`${variable} must be a JSON array of strings`, `e.g. ${variable}='["/opt/venv/bin/python", "-m", "p2m_worker"]'`);
}

import { DemoTargetError } from './demo-target-error.js';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  findRunPromptSpec,
  PromptSpecSchema,
  Prompt2ModelError,
  readTrainedModelSync,
  RUN_FILES,
  ValidationError,
  type ProviderRegistry,
  type PromptSpec,
  type TrainedModel,
} from '@prompt2model/core/internal';

export interface DemoTargetOptions {
  /** A model name the registry parses (`provider:model`, a bare id) or a local model folder. */
  model?: string;
  /** A run folder: its trained model and task. */
  runDir?: string;
  /** A prompt-spec file (instruction and examples). */
  specFile?: string;
  /** The instruction the model was trained with (overrides the spec's). */
  instruction?: string;
}

export interface DemoTarget {
  model: TrainedModel;
  spec: PromptSpec;
  /** The run folder the task came from (where flags go), when there is one. */
  runDir?: string;
  /** The spec file used, when it was found beside a model folder rather than given. */
  specFoundAt?: string;
}

function usage(message: string, hint: string): Prompt2ModelError {
  return new DemoTargetError({ message, hint });
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * What the demo shows: the model (a name through the model registry, a local folder, or the run
 * folder's trained model) and the task (the given spec file, else the run folder's prompt spec,
 * else the one of the run a local model folder sits in (`findRunPromptSpec`), else the instruction alone).
 */
export async function resolveDemoTarget(options: DemoTargetOptions, models: Pick<ProviderRegistry, 'parse'>): Promise<DemoTarget> {
  const { model, runFolder } = await demoModel(options, models);
  // `model` may itself be a run folder: its task is its own prompt spec.
  const taskFolder = options.runDir ?? runFolder;
  let path = options.specFile ?? (taskFolder && (await exists(join(taskFolder, RUN_FILES.promptSpec))) ? join(taskFolder, RUN_FILES.promptSpec) : undefined);
  let runDir: string | undefined = options.runDir ? undefined : runFolder;
  let specFoundAt: string | undefined = !options.specFile && runFolder && path ? path : undefined;
  if (!path && !taskFolder && options.model && model.kind === 'local-folder') {
    path = findRunPromptSpec(model.reference);
    if (path) {
      runDir = dirname(path);
      specFoundAt = path;
    }
  }
  let spec: PromptSpec = { instruction: '', examples: [], language: 'en' };
  if (path) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw usage(code ? `Cannot read the prompt spec ${path} (${code}).` : `The prompt spec ${path} is not valid JSON.`, 'Pass a prompt-spec file that `prompt2model parse` wrote.');
    }
    const parsed = PromptSpecSchema.safeParse(json);
    if (!parsed.success) throw ValidationError.fromZod(path, parsed.error, 'A prompt spec is {"instruction", "examples": [{"input", "output"}], "language"} (prompt2model parse writes one).');
    spec = parsed.data;
  }
  return {
    model,
    spec: options.instruction ? { ...spec, instruction: options.instruction } : spec,
    ...(runDir ? { runDir } : {}),
    ...(specFoundAt ? { specFoundAt } : {}),
  };
}

async function demoModel(options: DemoTargetOptions, models: Pick<ProviderRegistry, 'parse'>): Promise<{ model: TrainedModel; runFolder?: string }> {
  if (options.model) {
    const parsed = models.parse(options.model);
    if (parsed.kind === 'provider') {
      return { model: { backend: parsed.provider, reference: parsed.modelId, kind: 'managed-model', baseModel: '', method: 'full', artifacts: {}, metrics: {} } };
    }
    if (!(await isDirectory(parsed.path))) {
      throw usage(`The model "${options.model}" is not a folder.`, 'Pass a trained model folder (ONNX export or PyTorch), a run folder, openai:<model-id> (also ft:... ids) or hf:<model-id>.');
    }
    // A run folder names its trained model; any other folder is the model (core's locateModel finds its formats).
    const trained = readTrainedModelSync(parsed.path);
    if (trained) return { model: trained, runFolder: parsed.path };
    return { model: { backend: 'local', reference: parsed.path, kind: 'local-folder', baseModel: '', method: 'full', artifacts: {}, metrics: {} } };
  }
  const trained = options.runDir ? readTrainedModelSync(options.runDir) : undefined;
  if (!trained) {
    throw usage(
      options.runDir ? `The run folder ${options.runDir} has no trained model yet (${RUN_FILES.trainedModel}).` : 'No model to demo.',
      'Name a model (a folder, openai:<id>, hf:<id>), or a run folder whose training has finished.',
    );
  }
  return { model: trained };
}

import { resolve } from 'node:path';
import { executorForModel, locateModel, preferredFormat, type ExecutorTable, type ModelFormat, type TrainedModel } from '@prompt2model/core/internal';
import { evaluatorExecutors, type OnnxExecutorOptions } from '@prompt2model/evaluator/internal';
import { StudentLanguageModel } from './student-language-model.js';
import { studentInstruction } from './student-task.js';

export interface StudentOptions {
  /**
   * The trained student: a run folder (its trained model and task), a training job folder, or a
   * model folder (an ONNX export, a PyTorch folder). Core's `locateModel` finds its formats.
   */
  model: string;
  /**
   * The instruction the model was trained with; inputs are wrapped in the training prompt with it.
   * Default: the prompt spec of the run folder (the folder given, or the run folder it sits in).
   */
  instruction?: string;
  /** Run this format (e.g. `onnx-q8`); default the preferred one the folder has (ONNX first). */
  format?: ModelFormat;
  /**
   * Executor table entries over the default one (the evaluator's `onnx`, in this process): e.g.
   * `workerExecutors()` from `@prompt2model/trainer`, the `python-worker` entry that runs a PyTorch folder.
   */
  executors?: ExecutorTable;
  /** Options of the ONNX executor (`maxNewTokens` default, `dtype`, `batchSize`, `generation`, ...). */
  onnx?: Partial<Omit<OnnxExecutorOptions, 'model' | 'formatInput'>>;
  /** `model.modelId` in the AI SDK (default: `model` as given). */
  modelId?: string;
}

/**
 * The trained student as an AI SDK language model, for `generateText` and `streamText` from `ai`:
 * the model runs in this process (no server), through the same executor table as evaluation and
 * the demo, so it answers exactly as the evaluation scored. The folder and its task are checked
 * now; the model loads on the first call.
 *
 * ```ts
 * const { text } = await generateText({ model: createStudent({ model: 'runs/sentiment' }), prompt: 'a great film' });
 * ```
 */
export function createStudent(options: StudentOptions): StudentLanguageModel {
  const location = locateModel(options.model);
  const model: TrainedModel = location.trained ?? { backend: 'local', reference: resolve(options.model), kind: 'local-folder', baseModel: '', method: 'full', artifacts: {}, metrics: {} };
  const table: ExecutorTable = { ...evaluatorExecutors({ onnx: { stage: 'student', ...options.onnx } }), ...options.executors };
  const choice = options.format ? { format: options.format } : {};
  let instruction: string;
  try {
    instruction = studentInstruction(options.model, location, options.instruction);
  } catch (error) {
    // A folder with no model at all: that is the error to report (core's words), not its task.
    if (location.kind !== 'managed' && !preferredFormat(location)) executorForModel(model, { instruction: '' }, table, choice);
    throw error;
  }
  return new StudentLanguageModel(executorForModel(model, { instruction }, table, choice), options.modelId ?? options.model);
}

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRunPromptSpec, InvalidArgumentError, PromptSpecSchema, RUN_FILES, ValidationError, type ModelLocation } from '@prompt2model/core/internal';

/**
 * The instruction the student was trained with, which its inputs are wrapped in: the one given,
 * else the prompt spec of the run folder (the folder itself, or the run folder a training job or
 * model folder sits in). A folder with no task is an error: answering with a guessed instruction
 * (or none) would silently answer worse than the evaluation measured.
 */
export function studentInstruction(model: string, location: ModelLocation, instruction: string | undefined): string {
  if (instruction !== undefined) return instruction;
  const own = join(location.folder, RUN_FILES.promptSpec);
  const path = location.kind === 'run' ? (existsSync(own) ? own : undefined) : findRunPromptSpec(resolve(model));
  if (path) return readInstruction(path);
  throw new InvalidArgumentError({
    argument: 'instruction',
    message: `No task instruction for the student ${model}: it is not in a run folder with a prompt spec (${RUN_FILES.promptSpec}).`,
    hint: 'Pass `instruction` (the instruction the model was trained with; "" for a model trained on bare inputs), or the run folder itself as `model`.',
  });
}

function readInstruction(path: string): string {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ValidationError({ subject: path, issues: [{ path: '', message: 'not valid JSON' }], hint: 'Rerun the parse step of the run (the same command with the same run folder) to rewrite it.' });
  }
  const parsed = PromptSpecSchema.safeParse(json);
  if (!parsed.success) throw ValidationError.fromZod(path, parsed.error, 'A prompt spec is {"instruction", "examples", "language"} (the parse step writes one).');
  return parsed.data.instruction;
}

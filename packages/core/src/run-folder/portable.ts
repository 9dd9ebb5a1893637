import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { TrainedModel, TrainingJobSpec } from '../schemas.js';

/**
 * A path as the run folder records it: relative to the folder when it is inside it (so a moved or
 * copied folder still points at its own files), absolute when it is elsewhere (a model folder
 * outside the run does not move with it).
 */
export function toRunRelative(runDir: string, path: string): string {
  const absolute = resolve(runDir, path);
  const inside = relative(resolve(runDir), absolute);
  if (inside === '') return '.';
  if (inside.startsWith('..') || isAbsolute(inside)) return absolute;
  return inside.split(sep).join('/');
}

/** A recorded path, resolved against the run folder being opened (absolute ones stay as they are). */
export function fromRunRelative(runDir: string, path: string): string {
  return resolve(runDir, path);
}

const ARTIFACT_KEYS = ['model', 'adapter', 'merged', 'tokenizer', 'onnx'] as const;

function mapPaths(model: TrainedModel, map: (path: string) => string): TrainedModel {
  if (model.kind !== 'local-folder') return model;
  const artifacts: TrainedModel['artifacts'] = { ...model.artifacts };
  for (const key of ARTIFACT_KEYS) {
    const value = artifacts[key];
    if (value !== undefined) artifacts[key] = map(value);
  }
  return { ...model, reference: map(model.reference), artifacts };
}

/** The trained model as `trained-model.json` stores it: its folders relative to the run folder. */
export function portableTrainedModel(model: TrainedModel, runDir: string): TrainedModel {
  return mapPaths(model, (path) => toRunRelative(runDir, path));
}

/** A stored trained model with its folders resolved against the run folder it was read from. */
export function resolveTrainedModel(model: TrainedModel, runDir: string): TrainedModel {
  return mapPaths(model, (path) => fromRunRelative(runDir, path));
}

/**
 * The training job as its identity is hashed: data files relative to the run folder, so the same
 * job in a moved or copied folder is the same job (and resumes its own checkpoints).
 */
export function portableTrainingJob<T extends Pick<TrainingJobSpec, 'data'>>(job: T, runDir: string): T {
  const data: TrainingJobSpec['data'] = { train: toRunRelative(runDir, job.data.train) };
  if (job.data.validation !== undefined) data.validation = toRunRelative(runDir, job.data.validation);
  return { ...job, data };
}

/** How a step stores a trained model (`trained-model.json`): relative on disk, absolute in memory. */
export function trainedModelFile(runDir: string): { save(model: TrainedModel): TrainedModel; load(model: TrainedModel): TrainedModel } {
  return { save: (model) => portableTrainedModel(model, runDir), load: (model) => resolveTrainedModel(model, runDir) };
}

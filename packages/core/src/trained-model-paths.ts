import type { TrainedModel } from './schemas.js';

/**
 * The local files a trained model is made of (its folder and its ONNX export), for a run step's
 * `artifactPaths`: one deleted or damaged after training makes the step run again, which re-attaches
 * to the finished job and redoes only what is missing (the export). Remote models have none.
 */
export function trainedModelPaths(model: TrainedModel): string[] {
  if (model.kind !== 'local-folder') return [];
  return [model.reference, ...(model.artifacts.onnx && model.artifacts.onnx !== model.reference ? [model.artifacts.onnx] : [])];
}

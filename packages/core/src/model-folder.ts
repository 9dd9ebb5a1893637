import { readdirSync } from 'node:fs';
import type { TrainedModel } from './schemas.js';

/**
 * Where a trained model's ONNX export is, if it has one: `artifacts.onnx`, or the model folder when
 * it holds an `onnx/` folder or a `*.onnx` file (one directory listing). Executors use it to choose
 * between the ONNX runtime and the Python worker.
 */
export function onnxExportOf(model: TrainedModel): string | undefined {
  if (model.artifacts.onnx) return model.artifacts.onnx;
  if (model.kind !== 'local-folder') return undefined;
  try {
    const entries = readdirSync(model.reference, { withFileTypes: true });
    return entries.some((entry) => (entry.name === 'onnx' ? entry.isDirectory() : entry.name.endsWith('.onnx'))) ? model.reference : undefined;
  } catch {
    return undefined;
  }
}

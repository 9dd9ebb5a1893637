import type { HubCaller } from './create-hub-caller.js';
import type { ApiSafetensorsInfo } from './types/api.js';

const dtypeBytes: Record<string, number> = {
  F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, F8_E4M3: 1, F8_E5M2: 1, I8: 1, U8: 1, BOOL: 1,
};

/** Parameter count from a listing's safetensors metadata. */
export function safetensorsParameterCount(safetensors: ApiSafetensorsInfo | undefined): number | undefined {
  if (!safetensors) return undefined;
  if (typeof safetensors.total === 'number' && safetensors.total > 0) return safetensors.total;
  const sum = Object.values(safetensors.parameters ?? {}).reduce((a, b) => a + b, 0);
  return sum > 0 ? sum : undefined;
}

/** Weights bytes from a listing's safetensors metadata (count × dtype size). */
export function safetensorsBytes(safetensors: ApiSafetensorsInfo | undefined): number | undefined {
  if (!safetensors?.parameters) return undefined;
  let bytes = 0;
  for (const [dtype, count] of Object.entries(safetensors.parameters)) bytes += count * (dtypeBytes[dtype.toUpperCase()] ?? 4);
  return bytes > 0 ? bytes : undefined;
}

/** Size of one framework's weights (safetensors, else PyTorch, else TF/Flax), from the repo's file tree. */
export async function modelWeightsSize(caller: HubCaller, id: string): Promise<number | undefined> {
  return caller.call(`files of ${id}`, async (common) => {
    const groups: Array<[RegExp, number]> = [
      [/\.safetensors$/, 0],
      [/^pytorch_model.*\.bin$/, 0],
      [/\.(h5|msgpack)$/, 0],
    ];
    for await (const file of caller.hub.listFiles({ ...common, repo: { type: 'model', name: id }, recursive: true })) {
      if (file.type !== 'file') continue;
      const name = file.path.split('/').pop() ?? file.path;
      const group = groups.find(([pattern]) => pattern.test(name));
      if (group) group[1] += file.lfs?.size ?? file.size;
    }
    return groups.find(([, size]) => size > 0)?.[1];
  });
}

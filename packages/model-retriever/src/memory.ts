import { ValidationError, type Precision } from '@prompt2model/core/internal';

export interface FineTuneMemoryInput {
  /** Parameter count, when known (the Hub's safetensors metadata). */
  parameters?: number;
  /** Size of the weights on disk; used when `parameters` is unknown. */
  sizeBytes?: number;
  /** Bytes per parameter of the stored weights. Default 4 (fp32 checkpoints, most of the Hub). */
  storedBytesPerParameter?: number;
  sequenceLength?: number;
  batchSize?: number;
  /** Training precision: bf16/fp16 mixed precision (default bf16) or fp32. */
  precision?: Precision;
  /** LoRA rank. Default 8. */
  loraRank?: number;
  /** Adapted projections per layer (q and v by default). Default 2. */
  loraTargetsPerLayer?: number;
  /** Activation checkpointing (keeps one activation per layer instead of all). Default false. */
  gradientCheckpointing?: boolean;
  /** CUDA context, allocator slack and kernels' workspace. Default 1 GiB. */
  overheadBytes?: number;
}

export interface FineTuneMemoryEstimate {
  parameters: number;
  /** Model shape assumed for activations: hidden size and layer count. */
  hiddenSize: number;
  layers: number;
  activationBytes: number;
  loraParameters: number;
  /** Peak GPU memory for LoRA fine-tuning. */
  loraBytes: number;
  /** Peak GPU memory for full fine-tuning with AdamW. */
  fullBytes: number;
}

const GiB = 1024 ** 3;

/**
 * A first-order estimate of peak GPU memory for fine-tuning, good for ruling models out (the
 * question is "does a 3B model fit on 24 GB", not the last gigabyte):
 *
 * - full fine-tuning with AdamW keeps fp32 weights, gradients and two optimizer moments: 16 bytes
 *   a parameter (plus a 16-bit working copy under mixed precision);
 * - LoRA keeps the frozen weights in the training precision and 16 bytes for each adapter parameter
 *   (rank r on `loraTargetsPerLayer` square projections a layer: 2·r·d each);
 * - activations follow Korthikanti et al. (2022): per layer about s·b·d·34 + 5·a·s²·b bytes in
 *   16-bit, with a = d/64 heads; fp32 doubles it, checkpointing keeps about 2·s·b·d a layer.
 *
 * When the config is unknown the shape is inferred from the parameter count with the usual
 * aspect ratio (P ≈ 12·L·d², L ≈ d/128): 60M → d≈860, 7B → d≈4200, L≈33.
 */
export function estimateFineTuneMemory(input: FineTuneMemoryInput): FineTuneMemoryEstimate {
  const parameters =
    input.parameters ?? (input.sizeBytes !== undefined ? input.sizeBytes / (input.storedBytesPerParameter ?? 4) : undefined);
  if (parameters === undefined || !Number.isFinite(parameters) || parameters <= 0) {
    throw new ValidationError({
      subject: 'fine-tuning memory input',
      issues: [{ path: 'parameters', message: 'needs a positive parameter count or size in bytes' }],
    });
  }
  const sequenceLength = input.sequenceLength ?? 512;
  const batchSize = input.batchSize ?? 8;
  const precision = input.precision ?? 'bf16';
  const halfPrecision = precision !== 'fp32';
  const hiddenSize = Math.max(64, Math.cbrt((parameters * 128) / 12));
  const layers = Math.max(1, Math.round(hiddenSize / 128));
  const heads = Math.max(1, hiddenSize / 64);
  const precisionFactor = halfPrecision ? 1 : 2;
  const perLayer = input.gradientCheckpointing
    ? 2 * sequenceLength * batchSize * hiddenSize
    : 34 * sequenceLength * batchSize * hiddenSize + 5 * heads * sequenceLength * sequenceLength * batchSize;
  const activationBytes = perLayer * layers * precisionFactor;
  const overhead = input.overheadBytes ?? GiB;

  const fullStateBytes = parameters * (16 + (halfPrecision ? 2 : 0));
  const rank = input.loraRank ?? 8;
  const loraParameters = layers * (input.loraTargetsPerLayer ?? 2) * 2 * rank * hiddenSize;
  const frozenBytes = parameters * (halfPrecision ? 2 : 4);
  return {
    parameters,
    hiddenSize: Math.round(hiddenSize),
    layers,
    activationBytes: Math.round(activationBytes),
    loraParameters: Math.round(loraParameters),
    loraBytes: Math.round(frozenBytes + loraParameters * 16 + activationBytes + overhead),
    fullBytes: Math.round(fullStateBytes + activationBytes + overhead),
  };
}

const units: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
};

/** Parses `3GB`, `500 MB`, `24GiB`, `1.5g` or a plain number of bytes. GB is 10⁹ bytes, GiB 2³⁰. */
export function parseByteSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? units[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new ValidationError({
      subject: 'size',
      issues: [{ path: '', message: `"${text}" is not a size` }],
      hint: 'Write a number with a unit, e.g. 3GB, 500MB or 24GiB.',
    });
  }
  return Math.round(Number(match[1]) * unit);
}

/** `1.2 GB`, `350 MB`: decimal units, the way the Hub shows sizes. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(1)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}

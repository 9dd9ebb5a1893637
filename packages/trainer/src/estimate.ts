import type { TrainingJobSpec, TrainingPricing } from '@prompt2model/core/internal';
import type { DataSummary } from './data.js';

export type { TrainingPricing } from '@prompt2model/core/internal';

export interface TrainingEstimate {
  trainExamples: number;
  validationExamples: number;
  /** Tokens one epoch trains on. */
  tokensPerEpoch: number;
  epochs: number;
  /** Tokens × epochs: what per-token pricing bills. */
  trainedTokens: number;
  /** Optimizer steps over all epochs. */
  steps: number;
  /** GPU-hours (gpu-time pricing). */
  gpuHours?: number;
  /** Wall-clock hours (gpu-time pricing). */
  hours?: number;
  usd: number;
  pricing: TrainingPricing;
  warnings: string[];
}

/** Cost and time of a job before it is launched: tokens × epochs, priced per GPU-hour or per token. */
export function estimateTrainingCost(job: TrainingJobSpec, data: DataSummary, pricing: TrainingPricing): TrainingEstimate {
  const trainExamples = data.train.count;
  const validationExamples = data.validation?.count ?? 0;
  const epochs = pricing.kind === 'per-token' && pricing.wholeEpochs ? Math.ceil(job.epochs) : job.epochs;
  const tokensPerEpoch = data.train.tokens;
  const trainedTokens = Math.round(tokensPerEpoch * epochs);
  // Data parallel: each optimizer step consumes one batch per GPU.
  const gpus = pricing.kind === 'gpu-time' ? pricing.gpus : 1;
  const stepsPerEpoch = Math.ceil(trainExamples / (job.batchSize * job.gradientAccumulationSteps * gpus));
  const steps = Math.ceil(stepsPerEpoch * epochs);
  const base = { trainExamples, validationExamples, tokensPerEpoch, epochs, trainedTokens, steps, pricing, warnings: [...data.warnings] };
  if (pricing.kind === 'per-token') {
    return { ...base, usd: (trainedTokens * pricing.usdPer1MTokens) / 1_000_000 };
  }
  // Evaluation passes are forward-only: about a third of a training step's work per token.
  const evalTokens = job.evalEachEpoch && data.validation ? (data.validation.tokens * Math.ceil(epochs)) / 3 : 0;
  const seconds = (trainedTokens + evalTokens) / (pricing.tokensPerSecondPerGpu * pricing.gpus);
  const hours = seconds / 3600 + (pricing.overheadHours ?? 0);
  const gpuHours = hours * pricing.gpus;
  return { ...base, hours, gpuHours, usd: gpuHours * pricing.gpuHourlyUsd };
}

/** A human summary, as the CLI prints it before dispatch. */
export function formatEstimate(estimate: TrainingEstimate, backend: string): string {
  const lines = [
    `Estimate (${backend}): ${estimate.trainExamples} train / ${estimate.validationExamples} validation examples, ` +
      `~${estimate.tokensPerEpoch.toLocaleString('en-US')} tokens/epoch × ${estimate.epochs} epochs = ~${estimate.trainedTokens.toLocaleString('en-US')} tokens, ${estimate.steps} steps`,
  ];
  if (estimate.pricing.kind === 'per-token') {
    lines.push(`  cost ~$${estimate.usd.toFixed(2)} at $${estimate.pricing.usdPer1MTokens}/1M training tokens`);
  } else {
    lines.push(
      `  time ~${formatHours(estimate.hours ?? 0)} on ${estimate.pricing.gpus} GPU(s) at ~${estimate.pricing.tokensPerSecondPerGpu} tokens/s each; ` +
        `${(estimate.gpuHours ?? 0).toFixed(3)} GPU-hours × $${estimate.pricing.gpuHourlyUsd}/h = ~$${estimate.usd.toFixed(2)}`,
    );
  }
  for (const warning of estimate.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

function formatHours(hours: number): string {
  if (hours < 1 / 60) return `${Math.max(1, Math.round(hours * 3600))} s`;
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  return `${hours.toFixed(1)} h`;
}

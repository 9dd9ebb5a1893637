import { InvalidArgumentError } from '@prompt2model/core/internal';
/** Where generation stands when a temperature is chosen. */
export interface GenerationProgress {
  /** Examples accepted so far. */
  accepted: number;
  /** Examples asked for. */
  target: number;
  /** `accepted / target`, clamped to [0, 1]. */
  fraction: number;
}

/**
 * Temperature for the next input-generation request, as the dataset fills. Low early (inputs close
 * to the user's examples), higher later (push away from what is already there). Any function works.
 */
export type TemperatureSchedule = (progress: GenerationProgress) => number;

/** Linear from `from` at an empty dataset to `to` at a full one (reference default: 0.5 → 1.4). */
export function linearTemperatureSchedule(from = 0.5, to = 1.4): TemperatureSchedule {
  assertTemperature(from);
  assertTemperature(to);
  return ({ fraction }) => round(from + (to - from) * clamp01(fraction));
}

/** The same temperature throughout. */
export function constantTemperatureSchedule(temperature: number): TemperatureSchedule {
  assertTemperature(temperature);
  return () => temperature;
}

/** Cosine from `from` to `to`: slow change at both ends, fast in the middle. */
export function cosineTemperatureSchedule(from = 0.5, to = 1.4): TemperatureSchedule {
  assertTemperature(from);
  assertTemperature(to);
  return ({ fraction }) => round(from + ((to - from) * (1 - Math.cos(Math.PI * clamp01(fraction)))) / 2);
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

// Rounded so tiny float differences never change a request (and its cache key).
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function assertTemperature(value: number): void {
  if (!Number.isFinite(value) || value < 0 || value > 2) throw new InvalidArgumentError({ argument: 'temperature', value, expected: 'in [0, 2]' });
}

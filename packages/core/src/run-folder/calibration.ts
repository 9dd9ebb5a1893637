import type { CalibrationPoint, CascadeCalibration } from './files.js';

/** One row of a calibration's short table (the report and the model card show the same rows). */
export interface CalibrationTableRow extends CalibrationPoint {
  /** The calibration's chosen threshold. */
  chosen: boolean;
}

/**
 * A few points of a calibration's coverage-quality curve for a table a person reads: evenly
 * spaced along the curve from the most traffic kept by the student to the least, always with the
 * chosen threshold, lowest threshold first. (The file keeps every point.)
 */
export function calibrationTableRows(calibration: Pick<CascadeCalibration, 'curve' | 'chosen'>, maxRows = 8): CalibrationTableRow[] {
  const curve = [...calibration.curve].sort((a, b) => a.threshold - b.threshold);
  const picked = new Set<number>();
  const slots = Math.max(1, Math.min(maxRows - 1, curve.length));
  for (let slot = 0; slot < slots; slot++) picked.add(Math.round((slot * (curve.length - 1)) / Math.max(1, slots - 1)));
  const chosenIndex = curve.findIndex((point) => point.threshold === calibration.chosen.threshold);
  if (chosenIndex >= 0) picked.add(chosenIndex);
  return [...picked]
    .filter((index) => index >= 0 && index < curve.length)
    .sort((a, b) => a - b)
    .map((index) => ({ ...curve[index]!, chosen: index === chosenIndex }));
}

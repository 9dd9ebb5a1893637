import { CascadeCalibrationSchema, Prompt2ModelError, readRunFile, RUN_FILES, type CascadeCalibration, type Executor } from '@prompt2model/core/internal';
import { createCascade, type CascadeExecutor } from '@prompt2model/evaluator/internal';

export interface RunCascadeOptions {
  /** The run folder whose calibration sets the threshold (`calibration.json`), when `threshold` is not given. */
  runDir?: string;
  student: Executor;
  teacher: Executor;
  /** Overrides the calibrated threshold (0..1; Infinity: always the teacher). */
  threshold?: number;
}

/**
 * The cascade an app calls (`serve --cascade`): the student and the teacher with the run's
 * calibrated threshold, or the given one. A clear error when neither exists: a cascade without a
 * threshold would guess how often to pay the teacher.
 */
export async function createRunCascade(options: RunCascadeOptions): Promise<{ cascade: CascadeExecutor; calibration?: CascadeCalibration }> {
  const calibration = options.runDir ? await readRunFile(options.runDir, RUN_FILES.calibration, CascadeCalibrationSchema) : undefined;
  if (options.threshold === undefined && !calibration) {
    throw new Prompt2ModelError({
      message: `${options.runDir ? `${options.runDir} has no cascade calibration (calibration.json)` : 'The model is not a run folder with a cascade calibration'}, and no \`threshold\` was given.`,
      hint: options.runDir
        ? `Calibrate it first (\`prompt2model calibrate ${options.runDir}\`: one teacher call per validation example), or give a \`threshold\` from 0 to 1.`
        : 'Give a `threshold` from 0 to 1, or serve a run folder that has been calibrated.',
      exitCategory: 'configuration',
    });
  }
  const cascade = createCascade({
    student: options.student,
    teacher: options.teacher,
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
    ...(calibration ? { calibration } : {}),
  });
  return { cascade, ...(calibration ? { calibration } : {}) };
}

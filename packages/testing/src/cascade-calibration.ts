import { RUN_FILES, type CascadeCalibration } from '@prompt2model/core/internal';

/**
 * A cascade calibration (`calibration.json`) worked out by hand, for tests of what reads one (the
 * report, the model card, `serve --cascade`): five validation rows scored by exact match, the
 * teacher right on four (0.8), the student alone on three (0.6); the threshold 0.4 keeps 80% of
 * calls on the student at the teacher's quality. gpt-4o-mini's list price over 1,000 input and 100
 * output tokens in 5 calls is $0.042 per 1,000 calls; the cascade sends 20% of them, $0.0084.
 */
export function sampleCascadeCalibration(overrides: Partial<CascadeCalibration> = {}): CascadeCalibration {
  return {
    version: 1,
    createdAt: '2026-12-07T00:00:00.000Z',
    heldOut: { split: 'validation', file: RUN_FILES.validation, count: 5 },
    metric: 'exact_match',
    targetQuality: 0.99,
    student: { model: 'student', quality: 0.6, costPer1000Usd: 0 },
    teacher: { model: 'gpt-4o-mini', quality: 0.8, requests: 5, cachedRequests: 0, inputTokens: 1000, outputTokens: 100, costUsd: 0.00021, price: { inputPer1M: 0.15, outputPer1M: 0.6 } },
    curve: [
      { threshold: 0.4, coverage: 0.8, quality: 0.8, relativeQuality: 1 },
      { threshold: 0.6, coverage: 0.6, quality: 0.6, relativeQuality: 0.75 },
      { threshold: 0.8, coverage: 0.4, quality: 0.8, relativeQuality: 1 },
      { threshold: 0.9, coverage: 0.2, quality: 0.8, relativeQuality: 1 },
    ],
    chosen: { threshold: 0.4, coverage: 0.8, quality: 0.8, relativeQuality: 1 },
    costPer1000: { teacherOnlyUsd: 0.042, studentOnlyUsd: 0, cascadeUsd: 0.0084, priced: true },
    ...overrides,
  };
}

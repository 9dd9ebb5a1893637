import { InvalidArgumentError } from '@prompt2model/core/internal';
import { describe, expect, it } from 'vitest';
import { constantTemperatureSchedule, cosineTemperatureSchedule, linearTemperatureSchedule } from '../src/temperature.js';

const at = (fraction: number) => ({ accepted: fraction * 100, target: 100, fraction });

describe('temperature schedules', () => {
  it('linear goes from 0.5 to 1.4 by default', () => {
    const schedule = linearTemperatureSchedule();
    expect(schedule(at(0))).toBe(0.5);
    expect(schedule(at(0.5))).toBe(0.95);
    expect(schedule(at(1))).toBe(1.4);
    expect(schedule(at(3))).toBe(1.4);
  });

  it('cosine and constant schedules', () => {
    expect(cosineTemperatureSchedule(0, 1)(at(0.5))).toBe(0.5);
    expect(cosineTemperatureSchedule(0, 1)(at(1))).toBe(1);
    expect(constantTemperatureSchedule(0.9)(at(0.3))).toBe(0.9);
  });

  it('rejects temperatures out of range', () => {
    expect(() => linearTemperatureSchedule(-1, 1)).toThrow(InvalidArgumentError);
    expect(() => constantTemperatureSchedule(3)).toThrow(InvalidArgumentError);
  });
});

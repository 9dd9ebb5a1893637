import type { TrainingEvent } from '@prompt2model/core/internal';

const TYPES = new Set(['start', 'step', 'eval', 'checkpoint', 'log', 'done', 'error']);

/**
 * Parses one line of the worker protocol (one JSON object a line with a `type`). Anything else a
 * process prints (a library's banner, a warning) becomes a `log` event, so no output is lost.
 */
export function parseEventLine(line: string): TrainingEvent | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(trimmed) as Record<string, unknown>;
      if (value && typeof value === 'object' && typeof value.type === 'string' && TYPES.has(value.type) && isWellFormed(value)) {
        return value as TrainingEvent;
      }
    } catch {
      // Not JSON after all: keep it as text.
    }
  }
  return { type: 'log', message: trimmed };
}

function isWellFormed(value: Record<string, unknown>): boolean {
  switch (value.type) {
    case 'step':
      return typeof value.step === 'number';
    case 'checkpoint':
      return typeof value.step === 'number' && typeof value.path === 'string';
    case 'eval':
      return typeof value.metrics === 'object' && value.metrics !== null;
    case 'log':
    case 'error':
      return typeof value.message === 'string';
    default:
      return true;
  }
}

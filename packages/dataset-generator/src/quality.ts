import type { PromptSpec } from '@prompt2model/core/internal';
import { answerKey, normalizeText } from './text.js';
import { ngramJaccard } from './near-duplicate.js';

/** Why a candidate example was not kept. */
export type RejectionReason =
  | 'unparseable'
  | 'empty-input'
  | 'empty-output'
  | 'input-too-long'
  | 'output-too-long'
  | 'output-equals-input'
  | 'instruction-echo'
  | 'invalid-label'
  | 'duplicate'
  | 'near-duplicate'
  | 'low-agreement'
  | 'contaminated';

export interface QualityFilterOptions {
  /** Longest input kept, in characters. Default 4000. */
  maxInputChars?: number;
  /** Longest output kept, in characters. Default 2000. */
  maxOutputChars?: number;
  /** Closed label set; outputs outside it are rejected and matches are rewritten to the label's spelling. */
  labels?: readonly string[];
  /** The task instruction: inputs that merely repeat it are rejected. */
  instruction?: string;
}

/** Filter options for a prompt spec: its labels (when it is a classification task) and instruction. */
export function qualityOptionsFor(spec: PromptSpec, overrides: QualityFilterOptions = {}): QualityFilterOptions {
  const labels = spec.labels && spec.labels.length > 0 ? spec.labels : undefined;
  return { instruction: spec.instruction, ...(labels ? { labels } : {}), ...overrides };
}

/**
 * Standardises a model's answer: trims, drops a wrapping code fence and a leading `Output:` label
 * the model sometimes echoes from the prompt, and trims trailing spaces on each line.
 */
export function standardizeOutput(text: string): string {
  let out = text.trim();
  const fenced = /^```[\w-]*\n([\s\S]*?)\n?```$/u.exec(out);
  if (fenced) out = fenced[1]!.trim();
  out = out.replace(/^(?:output|answer)\s*:\s*/iu, '');
  return out
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/** Standardises an input: trims and drops a leading `Input:` label. */
export function standardizeInput(text: string): string {
  return text
    .trim()
    .replace(/^input\s*:\s*/iu, '')
    .trim();
}

/** Checks an input on its own; returns the reason to reject it, or undefined when it is fine. */
export function checkInput(input: string, options: QualityFilterOptions = {}): RejectionReason | undefined {
  if (input.trim() === '') return 'empty-input';
  if (input.length > (options.maxInputChars ?? 4000)) return 'input-too-long';
  if (options.instruction && isInstructionEcho(input, options.instruction)) return 'instruction-echo';
  return undefined;
}

/**
 * Checks an output for its input. Returns `{ output }` (standardised, and rewritten to the canonical
 * label when there is a label set) or `{ reason }`.
 */
export function checkOutput(
  input: string,
  output: string,
  options: QualityFilterOptions = {},
): { output: string; reason?: undefined } | { reason: RejectionReason; output?: undefined } {
  const standardized = standardizeOutput(output);
  if (standardized === '') return { reason: 'empty-output' };
  if (standardized.length > (options.maxOutputChars ?? 2000)) return { reason: 'output-too-long' };
  if (normalizeText(standardized) === normalizeText(input)) return { reason: 'output-equals-input' };
  if (options.labels && options.labels.length > 0) {
    const label = matchLabel(standardized, options.labels);
    if (label === undefined) return { reason: 'invalid-label' };
    return { output: label };
  }
  return { output: standardized };
}

/** The label (as spelled in the set) that an answer names, or undefined. */
export function matchLabel(answer: string, labels: readonly string[]): string | undefined {
  const key = answerKey(answer);
  for (const label of labels) if (answerKey(label) === key) return label;
  return undefined;
}

/** True when a generated input only repeats the task instruction (whole, or nearly so). */
export function isInstructionEcho(input: string, instruction: string): boolean {
  const a = normalizeText(input);
  const b = normalizeText(instruction);
  if (a === '' || b === '') return false;
  if (a === b) return true;
  // A long instruction copied into the input verbatim, or a close paraphrase of it.
  if (b.length >= 30 && a.includes(b)) return true;
  if (Math.min(a.length, b.length) / Math.max(a.length, b.length) <= 0.6) return false;
  // Cheap screen first: a paraphrase shares most of the instruction's words.
  const instructionWords = new Set(b.split(' '));
  const inputWords = a.split(' ');
  const shared = inputWords.filter((word) => instructionWords.has(word)).length;
  if (shared / Math.max(inputWords.length, instructionWords.size) < 0.5) return false;
  return ngramJaccard(a, b, 4) >= 0.7;
}

import { stat } from 'node:fs/promises';
import { estimateTokens, ExampleSchema, readJsonl, ValidationError, type DataFormatRules, type TrainingJobSpec, type ValidationIssue } from '@prompt2model/core/internal';
import { toChatRow } from '@prompt2model/core/internal';
import { textualize } from './textualize.js';

export type { DataFormatRules } from '@prompt2model/core/internal';

/** Local transformers worker: anything non-empty goes; long rows are truncated to the spec's max lengths. */
export const TEXT_DATA_RULES: DataFormatRules = { name: 'transformers worker', format: 'text', minTrainExamples: 1 };

export interface SplitSummary {
  path: string;
  count: number;
  /** Tokens one epoch trains on (estimated, 4 characters a token, after truncation). */
  tokens: number;
  /** Longest example, in estimated tokens before truncation. */
  maxExampleTokens: number;
  /** Bytes of the rows in the backend's format (chat JSON for managed APIs). */
  bytes: number;
  /** Rows whose source/prompt is longer than maxSourceLength (text format). */
  truncatedSource: number;
  /** Rows whose target is longer than maxTargetLength (text format). */
  truncatedTarget: number;
  duplicates: number;
}

export interface DataSummary {
  train: SplitSummary;
  validation?: SplitSummary;
  /** A validation file too small for the backend, left out of the job (see `warnings`). */
  droppedValidation?: SplitSummary;
  warnings: string[];
}

const MAX_ISSUES = 50;

/**
 * Reads the job's train/validation JSON Lines, checks every row against `{input, output}` and the
 * backend's rules, and measures the data for the cost estimate. Throws one ValidationError listing
 * the problems (file and line), so nothing is uploaded or launched with bad data.
 */
export async function validateTrainingData(job: TrainingJobSpec, rules: DataFormatRules = TEXT_DATA_RULES): Promise<DataSummary> {
  const warnings: string[] = [];
  const issues: ValidationIssue[] = [];
  const train = await summarizeSplit(job.data.train, 'train', job, rules, issues, warnings);
  const validation = job.data.validation ? await summarizeSplit(job.data.validation, 'validation', job, rules, issues, warnings) : undefined;
  if (train && train.count < rules.minTrainExamples) {
    issues.push({ path: job.data.train, message: `${train.count} training examples; ${rules.name} needs at least ${rules.minTrainExamples}` });
  }
  // A validation file is optional: one too small for the backend (OpenAI rejects fewer than 10
  // rows) is left out, with a warning, rather than refusing to train.
  let keptValidation = validation;
  if (validation && validation.count > 0 && rules.minValidationExamples !== undefined && validation.count < rules.minValidationExamples) {
    keptValidation = undefined;
    warnings.push(
      `The validation file holds ${validation.count} rows and ${rules.name} needs at least ${rules.minValidationExamples} in one: training runs without a validation file (no validation loss, no early stopping).`,
    );
  }
  if (issues.length > 0 || !train) {
    throw new ValidationError({
      subject: `training data for ${rules.name}`,
      issues,
      hint: 'Each line must be {"input": "...", "output": "..."} with a non-empty output; fix or drop the listed rows and rerun.',
    });
  }
  if (job.evalEachEpoch && (!validation || validation.count === 0)) {
    warnings.push('No validation examples: evaluation each epoch and early stopping are off.');
  }
  return { train, ...(keptValidation ? { validation: keptValidation } : {}), ...(validation && !keptValidation ? { droppedValidation: validation } : {}), warnings };
}

async function summarizeSplit(
  path: string,
  split: 'train' | 'validation',
  job: TrainingJobSpec,
  rules: DataFormatRules,
  issues: ValidationIssue[],
  warnings: string[],
): Promise<SplitSummary | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
  } catch {
    issues.push({ path, message: `${split} file not found` });
    return undefined;
  }
  const summary: SplitSummary = { path, count: 0, tokens: 0, maxExampleTokens: 0, bytes: 0, truncatedSource: 0, truncatedTarget: 0, duplicates: 0 };
  const seen = new Set<string>();
  // Unknown architectures are counted as encoder-decoder; the worker decides for real.
  const architecture = job.architecture === 'decoder-only' ? 'decoder-only' : 'encoder-decoder';
  let lineNumber = 0;
  try {
    for await (const raw of readJsonl(path)) {
      lineNumber++;
      const where = `${path} row ${lineNumber}`;
      const parsed = ExampleSchema.safeParse(raw);
      if (!parsed.success) {
        if (issues.length < MAX_ISSUES) {
          issues.push({ path: where, message: parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join(', ') });
        }
        continue;
      }
      const example = parsed.data;
      if (example.output.trim() === '') {
        if (issues.length < MAX_ISSUES) issues.push({ path: where, message: 'output is empty' });
        continue;
      }
      summary.count++;
      const key = `${example.input}\u0000${example.output}`;
      if (seen.has(key)) summary.duplicates++;
      else seen.add(key);
      if (rules.format === 'chat') {
        const row = toChatRow(example, job.instruction);
        const line = `${JSON.stringify(row)}\n`;
        summary.bytes += Buffer.byteLength(line, 'utf8');
        // Chat formatting adds a few tokens per message.
        const tokens = row.messages.reduce((sum, m) => sum + estimateTokens(m.content) + 4, 3);
        summary.tokens += tokens;
        summary.maxExampleTokens = Math.max(summary.maxExampleTokens, tokens);
        if (rules.maxExampleTokens !== undefined && tokens > rules.maxExampleTokens && issues.length < MAX_ISSUES) {
          issues.push({ path: where, message: `about ${tokens} tokens; ${rules.name} accepts at most ${rules.maxExampleTokens} per example` });
        }
      } else {
        const text = textualize(example, { instruction: job.instruction, architecture, split: 'validation' });
        const line = `${JSON.stringify({ input: example.input, output: example.output })}\n`;
        summary.bytes += Buffer.byteLength(line, 'utf8');
        const sourceTokens = estimateTokens(text.source);
        // +1: the EOS token the tokenizer (or the worker, for decoder-only) appends.
        const targetTokens = estimateTokens(text.target) + 1;
        if (sourceTokens > job.maxSourceLength) summary.truncatedSource++;
        if (targetTokens > job.maxTargetLength) summary.truncatedTarget++;
        summary.tokens += Math.min(sourceTokens, job.maxSourceLength) + Math.min(targetTokens, job.maxTargetLength);
        summary.maxExampleTokens = Math.max(summary.maxExampleTokens, sourceTokens + targetTokens);
      }
    }
  } catch (error) {
    if (ValidationError.isInstance(error)) {
      issues.push(...error.issues.map((issue) => ({ path: error.subject, message: issue.message })));
      return undefined;
    }
    throw error;
  }
  if (rules.maxFileBytes !== undefined && summary.bytes > rules.maxFileBytes) {
    issues.push({ path, message: `${summary.bytes} bytes after conversion; ${rules.name} accepts at most ${rules.maxFileBytes}` });
  }
  if (summary.truncatedSource > 0) {
    warnings.push(`${split}: ${summary.truncatedSource} of ${summary.count} inputs are longer than maxSourceLength=${job.maxSourceLength} tokens (estimated) and will be truncated.`);
  }
  if (summary.truncatedTarget > 0) {
    warnings.push(`${split}: ${summary.truncatedTarget} of ${summary.count} outputs are longer than maxTargetLength=${job.maxTargetLength} tokens (estimated) and will be truncated.`);
  }
  if (summary.duplicates > 0) warnings.push(`${split}: ${summary.duplicates} duplicate rows.`);
  return summary;
}

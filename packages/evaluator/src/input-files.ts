import { readFile } from 'node:fs/promises';
import { ValidationError, type Example } from '@prompt2model/core/internal';
import { readTestSet } from './evaluator.js';

/** Predictions and their references, read from two files, one example a line, in the same order. */
export interface PredictionFiles {
  predictions: string[];
  /** One reference, or several acceptable ones, per prediction. */
  references: Array<string | string[]>;
}

/**
 * Reads a predictions file and a references file for scoring. Each is JSON Lines (a string, or an
 * object with the text field; references may also be arrays of strings) when its name ends in
 * `.jsonl`/`.ndjson`/`.json` or its first line is JSON, else plain text lines. A missing, empty or
 * binary file, a broken line, or files of different lengths are a ValidationError naming the file
 * and line: garbage is never scored as text.
 */
export async function readPredictionFiles(predictionsPath: string, referencesPath: string): Promise<PredictionFiles> {
  const predictions = (await readTextLines(predictionsPath, 'predictions')).map((value, index) => predictionText(value, predictionsPath, index));
  const references = (await readTextLines(referencesPath, 'references')).map((value, index) => referenceTexts(value, referencesPath, index));
  if (predictions.length !== references.length) {
    throw new ValidationError({
      subject: 'eval input',
      issues: [{ path: '', message: `${predictions.length} predictions in ${predictionsPath} but ${references.length} references in ${referencesPath}` }],
      hint: 'Both files need one line per example, in the same order (check for a missing or extra line at the end).',
    });
  }
  return { predictions, references };
}

/**
 * A test set to evaluate on (JSON Lines of `{input, output}`, the first `maxExamples` rows): a
 * missing file, a folder or a file without examples is a ValidationError that says what to give.
 */
export async function readTestSetFile(path: string, maxExamples?: number): Promise<Example[]> {
  const examples = await readTestSet(path, maxExamples).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
    throw new ValidationError({
      subject: `test set ${path}`,
      issues: [{ path: '', message: code === 'ENOENT' ? 'it does not exist' : 'it is a folder' }],
      hint: 'Give a JSON Lines file of {"input", "output"} rows.',
    });
  });
  if (examples.length === 0) {
    throw new ValidationError({ subject: `test set ${path}`, issues: [{ path: '', message: 'the file has no examples' }], hint: 'Pass a JSON Lines file with one {"input", "output"} object a line.' });
  }
  return examples;
}

/** The lines of one file: parsed JSON values for JSON Lines, else the text lines. */
async function readTextLines(path: string, what: 'predictions' | 'references'): Promise<unknown[]> {
  const one = what === 'predictions' ? 'prediction' : 'reference';
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw fileError(path, what, `cannot be read: ${why}`, `Give the path of a JSON Lines or text file, one ${one} a line.`);
  }
  const problem = binaryReason(bytes);
  if (problem) throw fileError(path, what, problem, 'Pass a UTF-8 text file (JSON Lines or one text a line), not a binary file.');
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw fileError(path, what, 'the file is empty', `Write one ${one} a line.`);
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  const firstIndex = lines.findIndex((line) => line.trim() !== '');
  const declaredJson = /\.(jsonl|ndjson|json)$/i.test(path);
  const json = declaredJson || parsesAsJsonValue(lines[firstIndex]!);
  if (!json) return lines;
  const parsed: unknown[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw invalidLine(path, index, `not valid JSON (${(error as Error).message}); the file is read as JSON Lines${declaredJson ? ' (its name ends in .jsonl/.json)' : ' (its first line is JSON)'}`);
    }
    if (value === null || (typeof value !== 'string' && typeof value !== 'object')) {
      throw invalidLine(path, index, `a JSON ${value === null ? 'null' : typeof value}, not a string, an array or an object`);
    }
    parsed.push(value);
  }
  return parsed;
}

function parsesAsJsonValue(line: string): boolean {
  const trimmed = line.trim();
  if (!/^[{["]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** Why bytes are not a text file: NUL bytes, or invalid UTF-8. */
function binaryReason(bytes: Buffer): string | undefined {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `it contains NUL bytes (first at byte ${nul}): it is a binary file, not text`;
  const text = bytes.toString('utf8');
  const replacements = text.match(/\uFFFD/g)?.length ?? 0;
  if (replacements > 0 && !bytes.includes(Buffer.from('\uFFFD'))) return `${replacements} byte sequences are not valid UTF-8: it is binary data or text in another encoding`;
  return undefined;
}

function fileError(path: string, what: string, message: string, hint: string): ValidationError {
  return new ValidationError({ subject: `${what} file ${path}`, issues: [{ path: '', message }], hint });
}

function invalidLine(path: string, index: number, message: string): ValidationError {
  return new ValidationError({
    subject: `${path} line ${index + 1}`,
    issues: [{ path: '', message }],
    hint: 'Fix that line: JSON Lines need one JSON string (or an object with the text field) a line; or use a .txt file with one plain text a line.',
  });
}

function predictionText(value: unknown, path: string, index: number): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of ['prediction', 'output', 'text']) if (typeof record[key] === 'string') return record[key] as string;
  }
  throw invalidLine(path, index, 'expected a string or an object with "prediction", "output" or "text"');
}

function referenceTexts(value: unknown, path: string, index: number): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value as string[];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of ['references', 'reference', 'output']) {
      const field = record[key];
      if (typeof field === 'string') return field;
      if (Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'string')) return field as string[];
    }
  }
  throw invalidLine(path, index, 'expected a string, an array of strings, or an object with "output", "reference" or "references"');
}

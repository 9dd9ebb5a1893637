import type { DatasetFeature } from '@prompt2model/huggingface/hub';

/** A leaf a row can be read at, e.g. `question`, `answers.text[0]`, `translation.de`, `label`. */
export interface ColumnPath {
  path: string;
  /** The top-level column it lives in (what a parquet reader must fetch). */
  column: string;
  /** `string`, `int64`, `class-label`, `translation`, ... */
  type: string;
  /** Names of a ClassLabel, so integers read as their names. */
  classNames?: string[];
}

type FeatureObject = { _type?: string; [key: string]: unknown };

function isObject(value: unknown): value is FeatureObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Every readable leaf of a dataset's features. Sequences contribute their first item (`[0]`), as a
 * text task wants one answer; Sequence-of-dict (SQuAD's `answers`) is stored as a dict of lists, so
 * it reads `answers.text[0]`; `List`/`[...]` of dicts are lists of dicts (`turns[0].text`);
 * Translation columns are flattened to one path per language.
 */
export function columnPaths(features: Record<string, DatasetFeature>): ColumnPath[] {
  const out: ColumnPath[] = [];
  const visit = (feature: unknown, path: string, column: string, depth: number): void => {
    if (depth > 6) return;
    if (Array.isArray(feature)) {
      if (feature.length > 0) visit(feature[0], `${path}[0]`, column, depth + 1);
      return;
    }
    if (!isObject(feature)) return;
    const type = feature._type;
    if (type === 'Value') {
      out.push({ path, column, type: String(feature.dtype ?? 'string') });
    } else if (type === 'ClassLabel') {
      out.push({ path, column, type: 'class-label', classNames: Array.isArray(feature.names) ? feature.names.map(String) : [] });
    } else if (type === 'Translation' || type === 'TranslationVariableLanguages') {
      const languages = Array.isArray(feature.languages) ? feature.languages.map(String) : [];
      if (type === 'TranslationVariableLanguages') out.push({ path, column, type: 'translation-variable' });
      else for (const language of languages) out.push({ path: `${path}.${language}`, column, type: 'string' });
    } else if (type === 'Sequence') {
      const inner = feature.feature;
      if (isObject(inner) && inner._type === undefined) {
        // Sequence(dict): a dict of lists.
        for (const [key, value] of Object.entries(inner)) visit(asList(value), `${path}.${key}`, column, depth + 1);
      } else {
        visit(inner, `${path}[0]`, column, depth + 1);
      }
    } else if (type === 'List' || type === 'LargeList') {
      visit(feature.feature, `${path}[0]`, column, depth + 1);
    } else if (type === undefined) {
      for (const [key, value] of Object.entries(feature)) visit(value, `${path}.${key}`, column, depth + 1);
    }
    // Image, Audio and other media are not text: left out.
  };
  for (const [name, feature] of Object.entries(features)) visit(feature, name, name, 0);
  return out;
}

function asList(feature: unknown): unknown {
  return [feature];
}

type Segment = { key: string } | { index: number };

/** `answers.text[0]` → key answers, key text, index 0. Keys may hold any character but `.` and `[`. */
export function parsePath(path: string): Segment[] {
  // Called for every row of a load: the few distinct paths are parsed once.
  const known = parsedPaths.get(path);
  if (known) return known;
  const segments = parsePathUncached(path);
  if (parsedPaths.size < 1000) parsedPaths.set(path, segments);
  return segments;
}

const parsedPaths = new Map<string, Segment[]>();

function parsePathUncached(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[1] !== undefined) segments.push({ key: match[1] });
    else segments.push({ index: Number(match[2]) });
  }
  return segments;
}

/** Reads a path from a row as text: ClassLabel integers become their names, lists are joined, missing is ''. */
export function readPath(row: Record<string, unknown>, column: ColumnPath | string): string {
  return pathReader(column)(row);
}

/**
 * `readPath` for one column, with the path parsed once: a load reads the same few paths from every
 * row, so the per-row work is the walk alone.
 */
export function pathReader(column: ColumnPath | string): (row: Record<string, unknown>) => string {
  const segments = parsePath(typeof column === 'string' ? column : column.path);
  const classNames = typeof column === 'string' ? undefined : column.classNames;
  return (row) => {
    let value: unknown = row;
    for (let i = 0; i < segments.length; i++) {
      if (value == null) return '';
      const segment = segments[i]!;
      if ('key' in segment) value = (value as Record<string, unknown>)[segment.key];
      else value = Array.isArray(value) ? value[segment.index] : undefined;
    }
    if (classNames && typeof value === 'number') return classNames[value] ?? (value < 0 ? '' : String(value));
    return toText(value);
  };
}

function toText(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(toText).filter(Boolean).join(' ');
  return JSON.stringify(value);
}

/** A row as the teacher sees it: each path with its value, long values cut. */
export function sampleRowText(row: Record<string, unknown>, paths: ColumnPath[], maxChars = 200): string {
  return paths
    .map((column) => {
      const value = readPath(row, column);
      const shown = value.length > maxChars ? `${value.slice(0, maxChars)}… (${value.length} chars)` : value;
      return `${column.path} (${column.classNames ? `class label: ${column.classNames.slice(0, 8).join(', ')}${column.classNames.length > 8 ? ', …' : ''}` : column.type}): ${JSON.stringify(shown)}`;
    })
    .join('\n');
}

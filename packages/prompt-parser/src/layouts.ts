import type { Demonstration } from '@prompt2model/core/internal';

/** Which prompt layout the deterministic parser recognised. */
export type PromptLayout = 'json' | 'json-list' | 'labeled-pairs' | 'sections' | 'arrows' | 'plain';

/** A prompt cut into its instruction and demonstrations, before language detection and checks. */
export interface SplitPrompt {
  instruction: string;
  examples: Demonstration[];
  layout: PromptLayout | 'llm';
}

// Labels are compared lower-cased, without spaces around them and without a trailing number.
const INPUT_LABELS = [
  'input', 'inputs', 'in', 'q', 'question', 'text', 'source', 'sentence', 'query', 'prompt', 'user',
  'request', 'review', 'document', 'article', 'passage', 'premise', 'example input', 'sample input',
  'nl', 'natural language', 'intent', 'english', 'src',
  '入力', '質問', '問題', '文章', '입력', '질문', '输入', '问题', '輸入', '問題', 'entrée', 'eingabe', 'entrada', 'вход',
];
const OUTPUT_LABELS = [
  'output', 'outputs', 'out', 'a', 'answer', 'label', 'target', 'response', 'result', 'expected output',
  'expected', 'sample output', 'example output', 'assistant', 'completion', 'translation', 'summary',
  'sentiment', 'category', 'class', 'classification', 'code', 'python', 'sql', 'mr', 'meaning representation',
  'tgt', 'french', 'german', 'spanish', 'japanese',
  '出力', '回答', '答え', '解答', '答', '출력', '답', '답변', '输出', '答案', '回答', '輸出', 'sortie', 'ausgabe', 'salida', 'réponse', 'antwort', 'respuesta', 'выход', 'ответ',
];
const INPUT_SET = new Set(INPUT_LABELS);
const OUTPUT_SET = new Set(OUTPUT_LABELS);

const INSTRUCTION_TITLES = new Set([
  'instruction', 'instructions', 'task', 'task description', 'description', 'system', 'system prompt', 'goal',
  '指示', 'タスク', '説明', '지시', '指令', '任务',
]);
const EXAMPLES_TITLE = /^(?:(?:few[- ]shot |some |more )?examples?|demonstrations?|samples?|例|例題|入出力例|예시|示例|例子)(?:\s*#?\d+)?$/iu;

const EXAMPLE_HEADING = /^\s*(?:#+\s*)?(?:\*\*|__)?(?:example|sample|demonstration|例|例題|예시|예|示例|例子)\s*#?\d*\s*(?:\*\*|__)?[:：.]?(?:\*\*|__)?\s*$/iu;

/** `Input:`, `**Q:**`, `- Output 2:`, `output="..."`, `入力：` — a label at the start of a line. */
const LABEL_LINE =
  /^[ \t]*(?:[-*•][ \t]+)?(?:\*\*|__)?(?<label>[\p{L}][\p{L}\p{M} _-]{0,29}?)(?:[ \t]*#?\d{1,3})?[ \t]*(?:\*\*|__)?[ \t]*(?<sep>[:：=])(?:\*\*|__)?(?<rest>.*)$/u;

interface LabelLine {
  index: number;
  label: string;
  separator: string;
  rest: string;
}

function normalizeLabel(label: string): string {
  return label.trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

function labelLines(lines: readonly string[]): LabelLine[] {
  const found: LabelLine[] = [];
  let inFence = false;
  lines.forEach((line, index) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) return;
    const match = LABEL_LINE.exec(line);
    if (!match?.groups) return;
    // `https://...` or `Note: ...` inside prose: a label has at most three words.
    const label = normalizeLabel(match.groups.label!);
    if (label.split(' ').length > 3) return;
    // `=` marks a label only before a quoted value (`input="..."`), never in code (`a = [1, 2]`).
    if (match.groups.sep === '=' && !/^\s*["']/.test(match.groups.rest!)) return;
    found.push({ index, label, separator: match.groups.sep!, rest: match.groups.rest! });
  });
  return found;
}

/**
 * Chooses the input and output labels: the first known input label that a known output label
 * follows, else two labels that alternate at least twice (`Review:` / `Sentiment:`).
 */
function choosePair(found: readonly LabelLine[]): { input: string; output: string } | undefined {
  for (let i = 0; i < found.length; i++) {
    const input = found[i]!.label;
    if (!INPUT_SET.has(input)) continue;
    const output = found.slice(i + 1).find((line) => line.label !== input && OUTPUT_SET.has(line.label))?.label;
    if (output) return { input, output };
  }
  const labels = found.map((line) => line.label);
  for (let i = 0; i + 3 < labels.length; i++) {
    const [a, b] = [labels[i]!, labels[i + 1]!];
    if (a !== b && labels[i + 2] === a && labels[i + 3] === b) return { input: a, output: b };
  }
  return undefined;
}

/** Removes blank and separator-only lines (`---`, `###`, `***`) around a block of lines. */
function trimBlock(lines: readonly string[]): string {
  // Blank lines, rules (`---`, `###`), and headings that only number the examples (`Example 2:`).
  const isFiller = (line: string) => /^\s*(?:[-=*#_~]{3,}\s*)?$/.test(line) || EXAMPLE_HEADING.test(line);
  let start = 0;
  let end = lines.length;
  while (start < end && isFiller(lines[start]!)) start++;
  while (end > start && isFiller(lines[end - 1]!)) end--;
  return dedent(lines.slice(start, end)).join('\n').trimEnd();
}

function dedent(lines: readonly string[]): string[] {
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)![0].length);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((line) => line.slice(common));
}

/** `"text"` written with `=` (`input="..."`, the reference Prompt2Model style) is a quoted string. */
function unquote(value: string, separator: string): string {
  const trimmed = value.trim();
  if (separator !== '=' || trimmed.length < 2) return value.trim();
  const quote = trimmed[0];
  if ((quote === '"' || quote === "'") && trimmed.endsWith(quote)) {
    if (quote === '"') {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (typeof parsed === 'string') return parsed;
      } catch {
        // Not a JSON string literal (raw newlines, unescaped quotes): strip the quotes only.
      }
    }
    return trimmed.slice(1, -1);
  }
  return trimmed;
}

/** A last instruction line that only announces the examples ("Here are some examples:"). */
function dropExamplesHeader(instruction: string): string {
  const lines = instruction.split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const last = lines[lines.length - 1]?.trim() ?? '';
  const header =
    /^(?:#+\s*)?(?:\*\*)?(?:here (?:are|is) )?(?:some |a few |\d+ )?(?:few[- ]shot )?(?:examples?|demonstrations?|samples?)(?: of [^:]{0,60}| below| follow(?:s|ing)?)?(?:\*\*)?[:：.]?(?:\*\*)?$/i;
  const localHeader = /^(?:#+\s*)?(?:例|例題|入出力例|以下は例です|예시|示例|例子)[:：。]?$/u;
  if (last.split(/\s+/).length <= 10 && (header.test(last) || localHeader.test(last))) lines.pop();
  return lines.join('\n').trim();
}

/** Index of the first blank line after some text and outside code fences, or -1. */
function firstParagraphBreak(lines: readonly string[]): number {
  let inFence = false;
  let seenText = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (line.trim() !== '') seenText = true;
    else if (seenText && !inFence) return index;
  }
  return -1;
}

/** `Input:` / `Output:` (and `Q:`/`A:`, `input="..."`, ...) pairs after an instruction. */
export function splitLabeledPairs(text: string): SplitPrompt | undefined {
  const lines = text.split('\n');
  const found = labelLines(lines);
  const pair = choosePair(found);
  if (!pair) return undefined;
  const markers = found.filter((line) => line.label === pair.input || line.label === pair.output);
  const firstInput = markers.findIndex((line) => line.label === pair.input);
  const used = markers.slice(firstInput);
  const examples: Demonstration[] = [];
  let pendingInput: string | undefined;
  let lastBody: string[] = [];
  used.forEach((marker, position) => {
    const next = used[position + 1];
    const body = [marker.rest, ...lines.slice(marker.index + 1, next ? next.index : lines.length)];
    const value = unquote(trimBlock(body), marker.separator);
    if (marker.label === pair.input) {
      // An input with no output line becomes an example with an empty output, which the checks report.
      if (pendingInput !== undefined) examples.push({ input: pendingInput, output: '' });
      pendingInput = value;
    } else if (pendingInput !== undefined) {
      examples.push({ input: pendingInput, output: value });
      pendingInput = undefined;
      if (!next) lastBody = body;
    }
  });
  if (pendingInput !== undefined) examples.push({ input: pendingInput, output: '' });
  if (examples.every((example) => example.output === '')) return undefined;
  let trailing = '';
  const last = examples[examples.length - 1]!;
  // Text after the last answer, past a blank line ("Answer in lower case."), belongs to the
  // instruction when no other output spans paragraphs (code outputs may have blank lines).
  if (lastBody.length > 0 && examples.slice(0, -1).every((example) => !/\n\s*\n/.test(example.output))) {
    const blank = firstParagraphBreak(lastBody);
    const rest = blank < 0 ? '' : trimBlock(lastBody.slice(blank));
    if (rest !== '' && !/^\s*(?:[-=*#_~]{3,})\s*$/.test(rest)) {
      const separator = used[used.length - 1]!.separator;
      last.output = unquote(trimBlock(lastBody.slice(0, blank)), separator);
      trailing = rest;
    }
  }
  const instruction = [dropExamplesHeader(trimBlock(lines.slice(0, used[0]!.index))), trailing].filter(Boolean).join('\n\n');
  return { instruction, examples, layout: 'labeled-pairs' };
}

/** Markdown sections: `### Instruction`, `### Input`, `### Output`/`### Response`, `## Examples`. */
export function splitSections(text: string): SplitPrompt | undefined {
  const lines = text.split('\n');
  const headings: Array<{ index: number; title: string; raw: string }> = [];
  let inFence = false;
  lines.forEach((line, index) => {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const match = inFence ? null : /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (match) {
      const title = normalizeLabel(match[1]!.replace(/\*\*|__/g, '').replace(/[:：]\s*$/, '').replace(/\s*#?\d+$/, ''));
      headings.push({ index, title, raw: line });
    }
  });
  const kind = (title: string) =>
    INSTRUCTION_TITLES.has(title) ? 'instruction' : INPUT_SET.has(title) ? 'input' : OUTPUT_SET.has(title) ? 'output' : EXAMPLES_TITLE.test(title) ? 'examples' : 'other';
  if (!headings.some((heading) => kind(heading.title) !== 'instruction' && kind(heading.title) !== 'other')) return undefined;
  const instructionParts: string[] = [];
  const preamble = trimBlock(lines.slice(0, headings[0]!.index));
  if (preamble) instructionParts.push(preamble);
  const examples: Demonstration[] = [];
  let pendingInput: string | undefined;
  headings.forEach((heading, position) => {
    const end = headings[position + 1]?.index ?? lines.length;
    const body = trimBlock(lines.slice(heading.index + 1, end));
    switch (kind(heading.title)) {
      case 'instruction':
        if (body) instructionParts.push(body);
        break;
      case 'input':
        if (pendingInput !== undefined) examples.push({ input: pendingInput, output: '' });
        pendingInput = body;
        break;
      case 'output':
        if (pendingInput !== undefined) {
          examples.push({ input: pendingInput, output: body });
          pendingInput = undefined;
        }
        break;
      case 'examples': {
        const inner = splitLabeledPairs(body) ?? splitJsonList(body);
        if (inner) {
          examples.push(...inner.examples);
          if (inner.instruction) instructionParts.push(inner.instruction);
        } else if (body) {
          instructionParts.push(`${heading.raw.trim()}\n${body}`);
        }
        break;
      }
      default:
        // A section we do not recognise (`### Notes`) stays part of the instruction, heading included.
        instructionParts.push(body ? `${heading.raw.trim()}\n${body}` : heading.raw.trim());
    }
  });
  if (pendingInput !== undefined) examples.push({ input: pendingInput, output: '' });
  if (examples.length === 0) return undefined;
  return { instruction: dropExamplesHeader(instructionParts.join('\n\n')), examples, layout: 'sections' };
}

function pairFromObject(value: unknown): Demonstration | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  const find = (set: Set<string>) => entries.find(([key]) => set.has(normalizeLabel(key)));
  let input = find(INPUT_SET);
  let output = find(OUTPUT_SET);
  if (!input || !output) {
    // Any two-field object reads as {input, output} in key order.
    if (entries.length !== 2) return undefined;
    [input, output] = entries as [[string, unknown], [string, unknown]];
  }
  const text = (field: unknown) => (typeof field === 'string' ? field : field === null || field === undefined ? undefined : JSON.stringify(field));
  const inputText = text(input[1]);
  const outputText = text(output[1]);
  if (inputText === undefined || outputText === undefined) return undefined;
  return { input: inputText, output: outputText };
}

function pairsFromArray(value: unknown): Demonstration[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const pairs = value.map(pairFromObject);
  return pairs.every((pair): pair is Demonstration => pair !== undefined) ? pairs : undefined;
}

/** The whole prompt as JSON: `{"instruction": ..., "examples": [{"input": ..., "output": ...}]}`. */
export function splitJsonObject(text: string): SplitPrompt | undefined {
  const trimmed = stripFence(text.trim());
  if (!trimmed.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const instruction = [record.instruction, record.task, record.prompt].find((field) => typeof field === 'string') as string | undefined;
  const list = record.examples ?? record.demonstrations ?? [];
  const examples = Array.isArray(list) && list.length === 0 ? [] : pairsFromArray(list);
  if (instruction === undefined || examples === undefined) return undefined;
  return { instruction: instruction.trim(), examples, layout: 'json' };
}

function stripFence(text: string): string {
  const fenced = /^```[\w-]*\n([\s\S]*?)\n```$/.exec(text);
  return fenced ? fenced[1]!.trim() : text;
}

/**
 * An instruction followed by a JSON array of pairs (`[{"input": ..., "output": ...}]`, fenced or
 * not) or by JSON Lines, one pair a line. Text after the list stays in the instruction.
 */
export function splitJsonList(text: string): SplitPrompt | undefined {
  const lines = text.split('\n');
  for (let start = 0; start < lines.length; start++) {
    const line = lines[start]!.trim();
    let examples: Demonstration[] | undefined;
    let after: number | undefined;
    if (/^```(?:json|jsonl|javascript|js)?\s*$/i.test(line)) {
      const close = lines.findIndex((candidate, index) => index > start && candidate.trim() === '```');
      if (close < 0) continue;
      examples = parseJsonExamples(lines.slice(start + 1, close).join('\n').trim());
      after = close + 1;
    } else if (line.startsWith('[')) {
      const offset = lines.slice(0, start).reduce((sum, previous) => sum + previous.length + 1, 0) + lines[start]!.indexOf('[');
      const end = matchingBracket(text, offset);
      if (end === undefined || text.slice(end + 1).split('\n')[0]!.trim() !== '') continue;
      examples = parseJsonExamples(text.slice(offset, end + 1));
      after = start + text.slice(offset, end + 1).split('\n').length;
    } else if (line.startsWith('{')) {
      // JSON Lines: the run of consecutive lines that are each one object.
      let end = start;
      while (end < lines.length && /^\s*\{.*\}\s*$/.test(lines[end]!)) end++;
      examples = parseJsonExamples(lines.slice(start, end).join('\n'));
      after = end;
    }
    if (!examples || after === undefined) continue;
    const before = dropExamplesHeader(trimBlock(lines.slice(0, start)));
    const rest = trimBlock(lines.slice(after));
    return { instruction: [before, rest].filter(Boolean).join('\n\n'), examples, layout: 'json-list' };
  }
  return undefined;
}

/** Index of the bracket closing the one at `open`, skipping brackets inside JSON strings. */
function matchingBracket(text: string, open: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let index = open; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') depth++;
    else if (char === ']' || char === '}') {
      depth--;
      if (depth === 0) return index;
    }
  }
  return undefined;
}

function parseJsonExamples(body: string): Demonstration[] | undefined {
  if (body === '') return undefined;
  try {
    const value: unknown = JSON.parse(body);
    if (Array.isArray(value)) return pairsFromArray(value);
  } catch {
    // Not one JSON value: maybe JSON Lines.
  }
  try {
    return pairsFromArray(body.split('\n').filter((row) => row.trim() !== '').map((row) => JSON.parse(row) as unknown));
  } catch {
    return undefined;
  }
}

const ARROW_LINE = /^\s*(?:[-*•]\s+|\d{1,3}[.)]\s+)?(?<input>\S.*?)\s+(?:->|=>|→|⇒)\s+(?<output>\S.*?)\s*$/u;

/**
 * One example a line, `input -> output` (or `=>`, `→`), at least two such lines in a row after the
 * instruction: `cat -> chat`, `- 3 + 4 => 7`. Lines with more than one arrow are not examples.
 */
export function splitArrows(text: string): SplitPrompt | undefined {
  const lines = text.split('\n');
  const isExample = (line: string) => ARROW_LINE.test(line) && (line.match(/->|=>|→|⇒/gu)?.length ?? 0) === 1;
  let start = -1;
  for (let index = 0; index + 1 < lines.length; index++) {
    if (isExample(lines[index]!) && isExample(lines[index + 1]!)) {
      start = index;
      break;
    }
  }
  if (start < 0) return undefined;
  let end = start;
  while (end < lines.length && (isExample(lines[end]!) || (lines[end]!.trim() === '' && isExample(lines[end + 1] ?? '')))) end++;
  const examples = lines
    .slice(start, end)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const groups = ARROW_LINE.exec(line)!.groups!;
      return { input: stripQuotes(groups.input!), output: stripQuotes(groups.output!) };
    });
  const before = dropExamplesHeader(trimBlock(lines.slice(0, start)));
  const after = trimBlock(lines.slice(end));
  return { instruction: [before, after].filter(Boolean).join('\n\n'), examples, layout: 'arrows' };
}

function stripQuotes(value: string): string {
  const match = /^(["'“‘`])(.*)(["'”’`])$/su.exec(value.trim());
  return match ? match[2]! : value.trim();
}

/** The layouts in the order they are tried: the most explicit first. */
export const LAYOUT_SPLITTERS: ReadonlyArray<readonly [PromptLayout, (text: string) => SplitPrompt | undefined]> = [
  ['json', splitJsonObject],
  ['json-list', splitJsonList],
  ['sections', splitSections],
  ['labeled-pairs', splitLabeledPairs],
  ['arrows', splitArrows],
];

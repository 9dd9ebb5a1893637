import type { Demonstration, TaskType } from '@prompt2model/core/internal';

export interface TaskTypeInference {
  taskType: TaskType;
  /** The closed label set (classification only), in order of first appearance. */
  labels?: string[];
  /** Why, in a few words; shown by `prompt2model parse --verbose`. */
  reason: string;
}

const CLASSIFICATION_CUES =
  /\b(?:classif(?:y|ies|ication)|categori[sz]e|categor(?:y|ies)|label(?:s|led|ed)?|sentiment|whether|yes or no|true or false|one of|topic|intent|spam|toxic(?:ity)?|stance|polarity|entail(?:s|ment)?)\b|分類|判定|判別|感情|카테고리|분류|分类|类别/iu;
const EXTRACTION_CUES =
  /\b(?:extract|json|structured|fields?|parse|meaning representation|slots?|entities|named entity|key[- ]value|table)\b|抽出|構造化|추출|提取/iu;

/** Words that are labels in common classification tasks, even when each occurs once in the examples. */
const LABEL_WORDS = new Set([
  'yes', 'no', 'true', 'false', 'positive', 'negative', 'neutral', 'mixed', 'entailment', 'contradiction',
  'neutral', 'spam', 'ham', 'toxic', 'non-toxic', 'not toxic', 'offensive', 'not offensive', 'correct',
  'incorrect', 'valid', 'invalid', 'relevant', 'irrelevant', 'agree', 'disagree', 'support', 'refute',
  'pos', 'neg', 'good', 'bad', 'high', 'medium', 'low', 'urgent', 'not urgent',
]);

function isShortLabel(output: string): boolean {
  const text = output.trim();
  if (text === '' || text.length > 32 || /\n/.test(text)) return false;
  if (/[.!?。！？]$/.test(text) && text.split(/\s+/).length > 1) return false;
  return text.split(/\s+/).length <= 3;
}

/** JSON objects/arrays, `key: value` lines, or meaning representations like `inform(name[X], rating[good])`. */
function isStructured(output: string): boolean {
  const text = output.trim();
  if (/^[[{]/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null;
    } catch {
      // Not JSON; try the other shapes.
    }
  }
  if (/^[\w-]+\s*\((?:[^()]*\[[^\]]*\][^()]*)+\)$/su.test(text)) return true;
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length >= 2 && lines.every((line) => /^\s*[-*]?\s*[\p{L}_][\p{L}\d _-]{0,40}\s*[:=]\s*\S/u.test(line))) return true;
  // key=value pairs on one line: `name=Alice; age=30`.
  return (text.match(/[\p{L}_]+\s*=\s*[^;,=]+/gu)?.length ?? 0) >= 2 && /[;,|]/.test(text);
}

/** Labels the instruction lists: `as positive, negative or neutral`, `one of "a", "b", "c"`, `yes/no`. */
export function labelsFromInstruction(instruction: string): string[] {
  const found: string[] = [];
  const keyword = /(?<![\p{L}])(?:one of|either|as|into|labels?|categories|classes|options|choose from|answer with|with)(?:\s*[:(]\s*|\s+)/giu;
  for (const match of instruction.matchAll(keyword)) {
    // The rest of the sentence after the keyword, e.g. `positive, negative or neutral`.
    const rest = instruction.slice(match.index + match[0].length).split(/[.;:\n)]|\s(?:based|depending|according)\s/u)[0] ?? '';
    const items = rest
      .split(/\s*,\s*or\s+|\s*,\s*|\s+or\s+|\s*\/\s*|\s*\|\s*/u)
      .map((item) => item.trim().replace(/^["'`“‘]|["'`”’]$/g, '').trim());
    if (items.length < 2 || items.some((item) => item === '' || item.split(/\s+/).length > 3)) continue;
    for (const item of items) if (!found.includes(item)) found.push(item);
  }
  return found;
}

/**
 * Guesses the task type from the demonstrations (and the instruction's wording when there are few):
 * structured outputs → extraction; short outputs drawn from a small, repeating set → classification
 * (with that label set); outputs copied from the input → extraction; anything else → generation.
 */
export function inferTaskType(examples: readonly Demonstration[], instruction = ''): TaskTypeInference {
  const outputs = examples.map((example) => example.output.trim()).filter((output) => output !== '');
  const cueClassification = CLASSIFICATION_CUES.test(instruction);
  const cueExtraction = EXTRACTION_CUES.test(instruction);
  if (outputs.length === 0) {
    if (cueClassification) {
      const labels = labelsFromInstruction(instruction);
      return { taskType: 'classification', ...(labels.length >= 2 ? { labels } : {}), reason: 'no examples; the instruction asks for a classification' };
    }
    if (cueExtraction) return { taskType: 'extraction', reason: 'no examples; the instruction asks for extraction or structured output' };
    return { taskType: 'generation', reason: 'no examples; nothing suggests a closed label set or a structure' };
  }

  const structured = outputs.filter(isStructured).length;
  if (structured / outputs.length >= 0.5) {
    return { taskType: 'extraction', reason: `${structured} of ${outputs.length} outputs are structured (JSON, key-value or meaning representation)` };
  }

  const distinct: string[] = [];
  const seen = new Set<string>();
  for (const output of outputs) {
    const key = output.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      distinct.push(output);
    }
  }
  if (outputs.every(isShortLabel)) {
    const repeats = distinct.length < outputs.length;
    const knownLabels = distinct.every((label) => LABEL_WORDS.has(label.toLowerCase()) || /^-?\d{1,2}$/.test(label));
    if (repeats || knownLabels || cueClassification) {
      const listed = labelsFromInstruction(instruction);
      // Labels named in the instruction count only when they agree with the examples' outputs.
      const agree = listed.some((label) => seen.has(label.toLowerCase()));
      const labels = agree ? [...distinct, ...listed.filter((label) => !seen.has(label.toLowerCase()))] : distinct;
      const why = repeats ? `${outputs.length} short outputs use only ${distinct.length} distinct values` : knownLabels ? 'the outputs are common label words' : 'the instruction asks for a classification';
      return { taskType: 'classification', labels, reason: why };
    }
  }

  const copied = examples.filter((example) => {
    const output = example.output.trim().toLowerCase();
    return output !== '' && output.length < example.input.length && example.input.toLowerCase().includes(output);
  }).length;
  if (copied === examples.length || (cueExtraction && copied / examples.length >= 0.5)) {
    return { taskType: 'extraction', reason: `${copied} of ${examples.length} outputs are spans copied from their input` };
  }
  if (cueExtraction && outputs.every((output) => output.length < 80)) {
    return { taskType: 'extraction', reason: 'the instruction asks for extraction and the outputs are short' };
  }
  return { taskType: 'generation', reason: 'outputs are free text' };
}

import { Prompt2ModelError } from '@prompt2model/core/internal';

/**
 * A Hub repo id as huggingface_hub's `validate_repo_id` accepts it: `name` or `owner/name`, word
 * characters, `-` and `.`, no `--` or `..`, not starting or ending with `-` or `.`, at most 96 long.
 */
export function isHubRepoId(value: string): boolean {
  return /^(\b[\w\-.]+\b\/)?\b[\w\-.]+\b$/.test(value) && !value.includes('--') && !value.includes('..') && value.length <= 96 && !/^[.-]|[.-]$/.test(value);
}

/** Pipeline tags a generated student card may carry: the Hub's current text tasks (text2text-generation is no longer one). */
const CARD_PIPELINE_TAGS = new Set(['text-generation', 'text-classification', 'token-classification', 'question-answering', 'summarization', 'translation', 'fill-mask', 'feature-extraction']);

/**
 * Checks the YAML front matter of a model card the way the Hub does on commit, before any upload:
 * `base_model` must be Hub ids (a local path is refused), `pipeline_tag` a current task, and no
 * metric NaN or infinite. Reads the flat `key: value` and `- item` lines the card writer emits.
 */
export function validateModelCardMetadata(card: string, where = 'README.md'): void {
  const match = /^---\r?\n([\s\S]*?)\r?\n---(\r?\n|$)/.exec(card);
  if (!match) return;
  const problems: string[] = [];
  const lines = match[1]!.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const field = /^([\w-]+):\s*(.*)$/.exec(line);
    if (field?.[1] === 'base_model') {
      const values = field[2] ? [field[2]] : [];
      for (let k = i + 1; !field[2] && k < lines.length && /^\s+-\s/.test(lines[k]!); k++) values.push(lines[k]!.replace(/^\s+-\s*/, ''));
      for (const raw of values) {
        const value = unquote(raw);
        if (!isHubRepoId(value)) problems.push(`base_model "${value}" is not a Hub model id (owner/name); a local path is refused by the Hub`);
      }
    }
    if (field?.[1] === 'pipeline_tag' && !CARD_PIPELINE_TAGS.has(unquote(field[2] ?? ''))) problems.push(`pipeline_tag "${unquote(field[2] ?? '')}" is not a current Hub task`);
    if (/^\s+(-\s+)?value:\s*(.*)$/.test(line)) {
      const value = unquote(/value:\s*(.*)$/.exec(line)![1]!).toLowerCase();
      if (/^[-+]?\.?(nan|inf|infinity)$/.test(value)) problems.push(`a model-index metric is ${value}`);
    }
  }
  if (problems.length > 0) {
    throw new Prompt2ModelError({
      message: `The model card ${where} has metadata the Hub refuses: ${problems.join('; ')}. Nothing was uploaded.`,
      hint: 'Fix the front matter of README.md (or retrain with a Hub base model), then push again.',
      exitCategory: 'configuration',
    });
  }
}

function unquote(value: string): string {
  const trimmed = value.trim();
  if (/^".*"$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as string;
    } catch {
      return trimmed.slice(1, -1);
    }
  }
  return trimmed.replace(/^'(.*)'$/, '$1');
}

import {
  type ChatMessage,
  type Demonstration,
  estimateTokens,
  extractJson,
  lazySchema,
  Prompt2ModelError,
  type PromptSpec,
} from '@prompt2model/core/internal';

/** A candidate example as the teacher wrote it (the output is a hint only; labels come from voting). */
export interface GeneratedCandidate {
  input: string;
  output?: string;
}

export interface InputPromptParts {
  spec: PromptSpec;
  /** The user's demonstrations (already shuffled); the best guide to the task, kept first. */
  demonstrations: readonly Demonstration[];
  /** Previously accepted examples to steer away from (already sampled). */
  previous: readonly Demonstration[];
  /** Examples to ask for in each choice. */
  examplesPerChoice: number;
  /** Token budget of the prompt (messages only). */
  maxPromptTokens: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  demonstrationsUsed: number;
  previousUsed: number;
}

export const GENERATED_EXAMPLES_SCHEMA: Record<string, unknown> = {
  type: 'object',
  properties: {
    examples: {
      type: 'array',
      items: {
        type: 'object',
        properties: { input: { type: 'string' }, output: { type: 'string' } },
        required: ['input', 'output'],
        additionalProperties: false,
      },
    },
  },
  required: ['examples'],
  additionalProperties: false,
};

/**
 * The few-shot prompt that asks the teacher for new inputs. When it does not fit the budget, the
 * previous examples go first, then user demonstrations from the end; if the bare instruction still
 * does not fit, that is an error rather than a loop.
 */
export function buildInputGenerationPrompt(parts: InputPromptParts): BuiltPrompt {
  let previous = parts.previous.length;
  let demonstrations = parts.demonstrations.length;
  for (;;) {
    const messages = inputMessages(parts, parts.demonstrations.slice(0, demonstrations), parts.previous.slice(0, previous));
    if (countTokens(messages) <= parts.maxPromptTokens) return { messages, demonstrationsUsed: demonstrations, previousUsed: previous };
    if (previous > 0) previous--;
    else if (demonstrations > 0) demonstrations--;
    else throw promptTooLong(countTokens(messages), parts.maxPromptTokens);
  }
}

function inputMessages(parts: InputPromptParts, demonstrations: readonly Demonstration[], previous: readonly Demonstration[]): ChatMessage[] {
  const { spec, examplesPerChoice } = parts;
  const lines: string[] = [`Task: ${spec.instruction}`];
  if (spec.labels && spec.labels.length > 0) lines.push(`Allowed outputs: ${spec.labels.map((label) => JSON.stringify(label)).join(', ')}`);
  if (spec.language && spec.language !== 'en' && spec.language !== 'und') {
    lines.push(`Write the inputs in the language with ISO 639-1 code "${spec.language}", like the examples.`);
  }
  if (demonstrations.length > 0) {
    lines.push('', 'Examples written by the user:');
    for (const example of demonstrations) lines.push(JSON.stringify({ input: example.input, output: example.output }));
  }
  if (previous.length > 0) {
    lines.push('', 'Examples already in the dataset (write different ones):');
    for (const example of previous) lines.push(JSON.stringify({ input: example.input, output: example.output }));
  }
  const count = examplesPerChoice === 1 ? 'one new example' : `${examplesPerChoice} new examples`;
  lines.push(
    '',
    `Write ${count} of this task, different from all of the above and from each other: realistic, varied in topic, length and style.`,
    'Reply with only a JSON object: {"examples": [{"input": "...", "output": "..."}]}',
  );
  return [
    {
      role: 'system',
      content:
        'You write training data for a machine learning model. Each example has an "input" (what the model receives) and an "output" (the correct answer for that input).',
    },
    { role: 'user', content: lines.join('\n') },
  ];
}

export interface LabelPromptParts {
  spec: PromptSpec;
  input: string;
  demonstrations: readonly Demonstration[];
  maxPromptTokens: number;
}

/**
 * The prompt that asks the teacher for the output of one input: the instruction, the user's
 * demonstrations as chat turns, then the input. Demonstrations are dropped from the end to fit.
 */
export function buildLabelPrompt(parts: LabelPromptParts): BuiltPrompt {
  for (let demonstrations = parts.demonstrations.length; ; demonstrations--) {
    const messages = labelMessages(parts, parts.demonstrations.slice(0, demonstrations));
    if (countTokens(messages) <= parts.maxPromptTokens) return { messages, demonstrationsUsed: demonstrations, previousUsed: 0 };
    if (demonstrations === 0) throw promptTooLong(countTokens(messages), parts.maxPromptTokens);
  }
}

function labelMessages(parts: LabelPromptParts, demonstrations: readonly Demonstration[]): ChatMessage[] {
  const { spec } = parts;
  const system = [spec.instruction];
  if (spec.labels && spec.labels.length > 0) system.push(`Answer with exactly one of: ${spec.labels.map((label) => JSON.stringify(label)).join(', ')}.`);
  system.push('Reply with only the output for the given input, nothing else.');
  const messages: ChatMessage[] = [{ role: 'system', content: system.join('\n') }];
  for (const example of demonstrations) {
    messages.push({ role: 'user', content: example.input }, { role: 'assistant', content: example.output });
  }
  messages.push({ role: 'user', content: parts.input });
  return messages;
}

function countTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) total += estimateTokens(message.content) + 4;
  return total;
}

function promptTooLong(tokens: number, budget: number): Prompt2ModelError {
  return new Prompt2ModelError({
    message: `The generation prompt needs about ${tokens} tokens even without examples, over the budget of ${budget}.`,
    hint: 'Shorten the instruction, raise maxPromptTokens, or use a teacher with a larger context window.',
  });
}

const CandidateSchema = lazySchema((z) =>
  z.object({
    input: z.union([z.string(), z.number(), z.boolean()]).transform(String),
    output: z
      .union([z.string(), z.number(), z.boolean()])
      .transform(String)
      .optional(),
  }),
);

/**
 * The candidates in one teacher answer: `{"examples": [...]}`, a bare array, or a single
 * `{"input", "output"}` object. Items without a usable input are skipped; undefined when the answer is
 * not JSON of any of these shapes.
 */
export function parseGeneratedCandidates(text: string): GeneratedCandidate[] | undefined {
  let value: unknown;
  try {
    value = extractJson(text);
  } catch {
    return undefined;
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (value && typeof value === 'object' && Array.isArray((value as { examples?: unknown }).examples)) {
    items = (value as { examples: unknown[] }).examples;
  } else if (value && typeof value === 'object' && 'input' in value) items = [value];
  else return undefined;
  const out: GeneratedCandidate[] = [];
  for (const item of items) {
    const parsed = CandidateSchema.safeParse(item);
    if (parsed.success) out.push(parsed.data.output === undefined ? { input: parsed.data.input } : { input: parsed.data.input, output: parsed.data.output });
  }
  return out;
}

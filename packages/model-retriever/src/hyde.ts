import { Prompt2ModelError, type LanguageModelClient, type PromptSpec } from '@prompt2model/core/internal';
import { directionToken, taskTokens, translationDirectionsInText } from './model-card.js';

export interface HydeOptions {
  /** Most tokens of the hypothetical card. Default 350. */
  maxTokens?: number;
  /** Default 0: the same spec gives the same card, so the call is cached across runs. */
  temperature?: number;
  signal?: AbortSignal;
  /** Stage name for usage events. Default `retrieve-models`. */
  stage?: string;
}

/** How many demonstrations the HyDE prompt shows (enough to convey the format, short enough to stay cheap). */
const shownExamples = 3;
const maxExampleChars = 400;

/** The chat messages that ask the teacher for a hypothetical model card. */
export function hydeMessages(spec: PromptSpec): Array<{ role: 'system' | 'user'; content: string }> {
  const examples = spec.examples
    .slice(0, shownExamples)
    .map((example, index) => `Example ${index + 1}\nInput: ${clip(example.input)}\nOutput: ${clip(example.output)}`)
    .join('\n\n');
  return [
    {
      role: 'system',
      content: 'You write Hugging Face model cards. You describe models precisely and briefly, in Markdown.',
    },
    {
      role: 'user',
      content: [
        'A user needs a small model for the task below. Write the model card of a Hugging Face model that was',
        'fine-tuned for exactly this task: a title with a plausible model name, the task type, the input and output',
        'languages, the kind of datasets it was trained on, and two or three sentences on what it does.',
        'Under 200 words, no code, no evaluation numbers.',
        '',
        `Task: ${spec.instruction}`,
        ...(examples ? ['', examples] : []),
      ].join('\n'),
    },
  ];
}

function clip(text: string): string {
  return text.length > maxExampleChars ? `${text.slice(0, maxExampleChars)}…` : text;
}

/**
 * HyDE (Gao et al., 2022): instead of matching the instruction against model cards, the teacher
 * writes the card a perfect model for the task would have, and that card is the query. Cards
 * match cards far better than instructions do (same vocabulary: "fine-tuned", dataset names,
 * language pairs). The call goes through the shared client: cached, budgeted, rate limited.
 */
export async function hydeQuery(spec: PromptSpec, teacher: LanguageModelClient, options: HydeOptions = {}): Promise<string> {
  const result = await teacher.generate(
    {
      messages: hydeMessages(spec),
      temperature: options.temperature ?? 0,
      maxTokens: options.maxTokens ?? 350,
      ...(options.signal ? { abortSignal: options.signal } : {}),
    },
    { stage: options.stage ?? 'retrieve-models', ...(options.signal ? { signal: options.signal } : {}) },
  );
  const card = result.choices[0]?.text.trim() ?? '';
  if (card === '') {
    throw new Prompt2ModelError({
      message: `The teacher (${teacher.modelId}) returned an empty model card for HyDE.`,
      hint: 'Try another `teacher` model, or search without `hyde`.',
    });
  }
  return card;
}

/**
 * The query without HyDE: the instruction (plus its translation direction as a token).
 * Demonstrations are left out on purpose: their content words (names, numbers, foreign text)
 * match cards by accident far more than by design.
 */
export function plainQuery(spec: PromptSpec): string {
  return withDirectionTokens(spec.instruction, spec.instruction);
}

/**
 * Adds the tokens of the translation directions (see `directionToken`) and task types (see
 * `taskTokens`) that `text` asks for, each five times so they outweigh words that match both
 * directions, or both answering and generating questions.
 */
/** How often each direction or task token is repeated in a query (BM25 counts repeated query terms). */
const queryTokenRepeats = 5;

export function withDirectionTokens(query: string, text: string): string {
  const tokens = [...translationDirectionsInText(text).map(([from, to]) => directionToken(from, to)), ...taskTokens(text, true)];
  return tokens.length ? `${query}\n${tokens.flatMap((token) => Array<string>(queryTokenRepeats).fill(token)).join(' ')}` : query;
}

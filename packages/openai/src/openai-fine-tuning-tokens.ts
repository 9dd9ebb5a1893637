/**
 * OpenAI's per-example token limit for supervised fine-tuning, by base model (longest prefix wins;
 * a fine-tuned `ft:BASE:...` id takes its base's): the "training examples context length" of
 * OpenAI's fine-tuning guide.
 */
export const OPENAI_EXAMPLE_TOKEN_LIMITS: Record<string, number> = {
  'gpt-4o-mini': 65_536,
  'gpt-4o': 65_536,
  'gpt-4.1': 65_536,
  'gpt-4-0613': 8_192,
  'gpt-3.5-turbo': 16_385,
  'gpt-3.5-turbo-0613': 4_096,
  'davinci-002': 16_384,
  'babbage-002': 16_384,
};

function baseOf(model: string): string {
  return model.startsWith('ft:') ? model.slice(3).split(':')[0]! : model;
}

function longestPrefix<T>(table: Record<string, T>, model: string): T | undefined {
  let best: string | undefined;
  for (const key of Object.keys(table)) if (model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  return best === undefined ? undefined : table[best];
}

/** The most tokens one training example may have for `model`, or undefined when OpenAI publishes none we know. */
export function openAIExampleTokenLimit(model: string): number | undefined {
  return longestPrefix(OPENAI_EXAMPLE_TOKEN_LIMITS, baseOf(model));
}

/** The tokenizer a model uses: o200k_base for the gpt-4o, gpt-4.1, gpt-5 and o-series families, cl100k_base for gpt-4, gpt-3.5 and the base completions models. */
export function openAIEncodingOf(model: string): 'o200k_base' | 'cl100k_base' {
  return /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o)/.test(baseOf(model)) ? 'o200k_base' : 'cl100k_base';
}

type Encoder = { encode(text: string): number[] };
const encoders = new Map<string, Promise<Encoder>>();

/** OpenAI's tokenizer (gpt-tokenizer, a maintained JS port of tiktoken with OpenAI's ranks), loaded once per encoding. */
export function openAIEncoder(encoding: 'o200k_base' | 'cl100k_base'): Promise<Encoder> {
  let loaded = encoders.get(encoding);
  if (!loaded) {
    loaded = (encoding === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base')).then((module) => ({ encode: (text: string) => module.encode(text) }));
    encoders.set(encoding, loaded);
  }
  return loaded;
}

/** Texts longer than this are counted in segments (cut at whitespace where there is some). */
const SEGMENT = 2000;

/**
 * Tokens of a text. BPE's cost grows with the square of an unbroken run (a long CJK passage is one
 * piece), so a long text is counted in segments: exact below SEGMENT characters, and above it at
 * most one token more per cut (a merge a cut splits), never fewer.
 */
export function countTextTokens(encoder: Encoder, text: string): number {
  if (text.length <= SEGMENT) return encoder.encode(text).length;
  let total = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + SEGMENT);
    if (end < text.length) {
      // Cut before whitespace when the segment has some near its end: BPE pieces start there anyway.
      const space = text.slice(end - 200, end).search(/\s\S*$/);
      if (space >= 0) end = end - 200 + space;
    }
    total += encoder.encode(text.slice(start, end)).length;
    start = end;
  }
  return total;
}

/**
 * Counts a chat example's tokens as OpenAI does for fine-tuning (the cookbook's
 * `num_tokens_from_messages`): 3 tokens a message, the encoded role and content, 1 more for a
 * `name`, and 3 priming the reply. With the model's real tokenizer, so CJK text is not undercounted
 * (see `countTextTokens` for texts over 2,000 characters).
 */
export async function openAIChatTokenCounter(model: string): Promise<(messages: ReadonlyArray<{ role: string; content: string; name?: string }>) => number> {
  const encoder = await openAIEncoder(openAIEncodingOf(model));
  return (messages) => {
    let total = 3;
    for (const message of messages) {
      total += 3 + encoder.encode(message.role).length + countTextTokens(encoder, message.content);
      if (message.name) total += 1 + encoder.encode(message.name).length;
    }
    return total;
  };
}

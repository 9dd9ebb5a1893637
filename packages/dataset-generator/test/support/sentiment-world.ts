import { seededRandom } from '@prompt2model/core/internal';
/**
 * A synthetic "world" for the loopback teacher: inputs carry a hidden id (`#123 ...`) whose true
 * label is known, so tests and the benchmark can measure label accuracy against the truth. The
 * teacher answers deterministically from the request body (and choice index), with configurable
 * duplicates, near-duplicates, echoes of the user's examples, label noise and ambiguous inputs.
 */
import type { PromptSpec } from '@prompt2model/core';

export const LABELS = ['positive', 'negative', 'neutral'] as const;

const VOCAB = (
  'service staff food room price delivery screen battery sound plot actor ending taste view bed ' +
  'noise manual support update design colour fabric size shipping refund music crowd parking menu ' +
  'coffee dessert window garden engine seat brake app login camera lens keyboard charger cable ' +
  'lovely awful decent quick slow broken shiny dull friendly rude cheap pricey fresh stale warm cold ' +
  'clean dirty bright dark loud quiet smooth rough tiny huge modern dated'
).split(' ');

export interface WorldOptions {
  /** Share of label samples that give a wrong label. */
  labelNoise?: number;
  /** Share of generated inputs that repeat a popular input exactly. */
  duplicateRate?: number;
  /** Share of generated inputs that are a near copy (case, punctuation) of a popular input. */
  nearDuplicateRate?: number;
  /** Share of generated inputs that copy one of the user's examples. */
  echoRate?: number;
  /** Ids with `id % ambiguousModulus === 0` get uniformly random labels (low agreement). 0 = none. */
  ambiguousModulus?: number;
  /** Examples per choice the generator answers with. */
  examplesPerChoice?: number;
}

export const sentimentSpec: PromptSpec = {
  instruction: 'Classify the sentiment of the product review as positive, negative or neutral.',
  examples: [
    { input: '#900000000 The battery lasts all day and the screen is gorgeous.', output: 'positive' },
    { input: '#900000001 It broke after two days and support never answered.', output: 'negative' },
    { input: '#900000002 It does what the box says, nothing more.', output: 'neutral' },
  ],
  language: 'en',
  taskType: 'classification',
  labels: [...LABELS],
};

/** The true label of an input, from its hidden id; undefined when it has none. */
export function trueLabel(input: string): string | undefined {
  const id = idOf(input);
  return id === undefined ? undefined : LABELS[id % 3];
}

export function idOf(input: string): number | undefined {
  const match = /#(\d+)/.exec(input);
  return match ? Number(match[1]) : undefined;
}

export function textFor(id: number): string {
  const random = seededRandom(id * 2654435761);
  const words = Array.from({ length: 9 }, () => VOCAB[Math.floor(random() * VOCAB.length)]);
  return `#${id} ${words.join(' ')}.`;
}

interface Body {
  messages: Array<{ role: string; content: unknown }>;
  response_format?: unknown;
  [key: string]: unknown;
}

/** The server's `respond` handler for this world. */
export function sentimentTeacher(options: WorldOptions = {}): (body: Body, info: { choiceIndex: number }) => string {
  const noise = options.labelNoise ?? 0.1;
  const duplicateRate = options.duplicateRate ?? 0;
  const nearRate = options.nearDuplicateRate ?? 0;
  const echoRate = options.echoRate ?? 0;
  const perChoice = options.examplesPerChoice ?? 3;
  // The server asks for each choice of a request in turn: hash the body once per request.
  let lastBody: Body | undefined;
  let lastHash = 0;
  return (body, { choiceIndex }) => {
    if (body !== lastBody) {
      lastBody = body;
      lastHash = hashString(JSON.stringify(body.messages) + JSON.stringify(body.seed ?? '') + String(body.temperature ?? ''));
    }
    const bodyHash = lastHash;
    const random = seededRandom(bodyHash + choiceIndex * 7919);
    const system = String(body.messages[0]?.content ?? '');
    const isGeneration = system.startsWith('You write training data') || body.response_format !== undefined;
    if (isGeneration) {
      const examples = [];
      for (let i = 0; i < perChoice; i++) {
        const r = random();
        let input: string;
        if (r < duplicateRate) input = textFor(1000 + Math.floor(random() * 20));
        else if (r < duplicateRate + nearRate) input = textFor(1000 + Math.floor(random() * 20)).toUpperCase().replace(/\.$/, '!!');
        else if (r < duplicateRate + nearRate + echoRate) input = sentimentSpec.examples[Math.floor(random() * 3)]!.input;
        else input = textFor(10_000 + Math.floor(random() * 89_000_000));
        examples.push({ input, output: trueLabel(input) ?? 'neutral' });
      }
      return JSON.stringify({ examples });
    }
    const last = [...body.messages].reverse().find((message) => message.role === 'user');
    const input = String(last?.content ?? '');
    const id = idOf(input);
    const truth = trueLabel(input) ?? 'neutral';
    if (id !== undefined && options.ambiguousModulus && id % options.ambiguousModulus === 0) {
      return LABELS[Math.floor(random() * 3)]!;
    }
    if (random() < noise) {
      const others = LABELS.filter((label) => label !== truth);
      return others[Math.floor(random() * others.length)]!;
    }
    // Answers vary in surface form, as real teachers' do.
    return random() < 0.2 ? `${truth[0]!.toUpperCase()}${truth.slice(1)}.` : truth;
  };
}

export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}


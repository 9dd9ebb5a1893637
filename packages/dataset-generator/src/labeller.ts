import {
  Prompt2ModelError,
  sha256,
  type ChatMessage,
  type LanguageModelClient,
  type PromptSpec,
} from '@prompt2model/core/internal';
import { firstRoundSize, voteConfidence, votesToConfidence, type AgreementStats, type LabelNoiseEstimate } from './label-noise.js';
import { buildLabelPrompt } from './prompts.js';
import { checkOutput, matchLabel, standardizeOutput, type QualityFilterOptions, type RejectionReason } from './quality.js';
import { selfConsistencyVote } from './self-consistency.js';
import { answerKey, fnv1a32, seededRandom, shuffled, structuredAnswerKey } from './text.js';

export interface SelfConsistencyLabellerOptions {
  spec: PromptSpec;
  teacher: LanguageModelClient;
  quality: QualityFilterOptions;
  /** Fewest votes asked for first. */
  samplesPerInput: number;
  /** Most votes per input. */
  maxSamplesPerInput: number;
  /** Inputs whose winner got less than this share of the votes are dropped. */
  minAgreement: number;
  /** Votes are added until the leader is right with this probability (under the noise estimate). */
  confidenceTarget: number;
  temperature: number;
  maxTokens: number;
  maxPromptTokens: number;
  seed: number;
  signal: AbortSignal;
  stage: string;
}

export type LabelResult =
  | {
      output: string;
      votes: Record<string, number>;
      agreement: number;
      /** Probability that the output is right, under the noise estimate the vote ran with. */
      confidence: number;
      samples: number;
      promptHash: string;
      stats: AgreementStats;
    }
  | { reason: RejectionReason; stats?: AgreementStats };

/**
 * Labels one input by adaptive self-consistency. The first round asks for as many votes as the
 * current noise estimate says one round needs (at least `samplesPerInput`); more are added only
 * while the vote is tied or its leader is below the confidence target, up to the cap. A tie that
 * lasts to the cap drops the input: a split is never resolved by spelling.
 *
 * Votes must be independent on a real LLM, where identical requests at a low temperature answer
 * alike: every request for one input shows the demonstrations in its own order (and carries its own
 * seed and sample index), so no two requests, and no two cache entries, are the same.
 */
export class SelfConsistencyLabeller {
  private readonly key: (text: string) => string;
  private readonly labels: readonly string[] | undefined;

  constructor(private readonly options: SelfConsistencyLabellerOptions) {
    this.labels = options.quality.labels;
    this.key = answerKeyFor(options.spec);
  }

  /** Labels `input` with votes judged by `estimate` (the noise as of the unit's snapshot). */
  async label(input: string, estimate: LabelNoiseEstimate, priority?: number): Promise<LabelResult> {
    const { quality } = this.options;
    let firstPrompt: ChatMessage[];
    try {
      firstPrompt = this.promptFor(input, 0);
    } catch (error) {
      if (Prompt2ModelError.isInstance(error)) return { reason: 'input-too-long' };
      throw error;
    }
    // Label sets: count "Positive." and "positive" as one answer and vote in the label's spelling.
    const canonical = (text: string) => {
      const standardized = standardizeOutput(text);
      return this.labels ? (matchLabel(standardized, this.labels) ?? standardized) : standardized;
    };
    const max = this.options.maxSamplesPerInput;
    const min = Math.min(this.options.samplesPerInput, max);
    const target = this.options.confidenceTarget;
    const unseen = (seen: number) => (this.labels ? Math.max(0, this.labels.length - seen) : 1);
    const answers: string[] = [];
    let variant = 0;
    const ask = async (count: number) => {
      const perRequest = this.options.teacher.maxChoicesPerRequest;
      const requests: Array<Promise<string[]>> = [];
      for (let remaining = count; remaining > 0; variant++) {
        const n = Math.min(perRequest, remaining);
        remaining -= n;
        requests.push(this.request(input, variant, n, priority, variant === 0 ? firstPrompt : undefined));
      }
      for (const texts of await Promise.all(requests)) answers.push(...texts.map(canonical));
    };
    // One request's worth of votes first (leaving room for two more when it splits): extra votes
    // in the same request cost only their answers. A teacher that answers one choice per request
    // pays a whole request per vote, so it starts with the fewest and adds as needed.
    const perRequest = this.options.teacher.maxChoicesPerRequest;
    const sized = max - min >= 2 ? firstRoundSize(estimate, min, max - 2, target) : min;
    await ask(Math.max(min, Math.min(sized, perRequest)));
    const firstRound = answers.length;
    let vote = selfConsistencyVote(answers, { key: this.key });
    let counts = countsOf(vote);
    // No non-empty answer at all: more votes of a teacher that refuses this input would not help.
    while (vote && counts.length > 0 && answers.length < max && (vote.tied || voteConfidence(counts, estimate, unseen(counts.length)) < target)) {
      const wanted = vote.tied ? 2 : Math.max(2, votesToConfidence(counts, estimate, target, unseen(counts.length)));
      await ask(Math.min(wanted, max - answers.length));
      vote = selfConsistencyVote(answers, { key: this.key });
      counts = countsOf(vote);
    }
    if (!vote) return { reason: 'empty-output' };
    const stats = agreementStats(answers, firstRound, this.key(vote.output), this.key);
    if (vote.tied) return { reason: 'low-agreement', stats };
    const checked = checkOutput(input, vote.output, quality);
    if (checked.reason) return { reason: checked.reason, stats };
    if (vote.agreement < this.options.minAgreement) return { reason: 'low-agreement', stats };
    return {
      output: checked.output,
      votes: vote.votes,
      agreement: round3(vote.agreement),
      confidence: round3(voteConfidence(counts, estimate, unseen(counts.length))),
      samples: answers.length,
      promptHash: hashMessages(firstPrompt),
      stats,
    };
  }

  /**
   * Request `variant` for an input: variant 0 shows the demonstrations as the user wrote them, the
   * next ones rotated (each demonstration once nearest the input), later ones in a seeded order
   * (a long prompt then also drops different ones).
   */
  private promptFor(input: string, variant: number): ChatMessage[] {
    const { spec } = this.options;
    const count = spec.examples.length;
    const demonstrations =
      variant < count
        ? [...spec.examples.slice(variant), ...spec.examples.slice(0, variant)]
        : shuffled(spec.examples, seededRandom(`${this.options.seed}:label:${input}:${variant}`));
    return buildLabelPrompt({ spec, input, demonstrations, maxPromptTokens: this.options.maxPromptTokens }).messages;
  }

  private async request(input: string, variant: number, n: number, priority: number | undefined, messages = this.promptFor(input, variant)): Promise<string[]> {
    const response = await this.options.teacher.generate(
      {
        messages,
        n,
        temperature: this.options.temperature,
        maxTokens: this.options.maxTokens,
        // Variant 0 is the plain request; later ones carry their own seed too.
        ...(variant > 0 ? { seed: fnv1a32(`${this.options.seed}:vote:${variant}`) & 0x7fffffff } : {}),
      },
      { sampleIndex: variant, signal: this.options.signal, stage: this.options.stage, ...(priority !== undefined ? { priority } : {}) },
    );
    return response.choices.map((choice) => choice.text);
  }
}

/**
 * How answers are compared for a task: the label's spelling for a label set, the parsed JSON for
 * structured outputs (extraction tasks, or demonstrations whose outputs are JSON), otherwise the
 * text with whitespace, case, quotes and a final period ignored.
 */
export function answerKeyFor(spec: PromptSpec): (text: string) => string {
  const labels = spec.labels && spec.labels.length > 0 ? spec.labels : undefined;
  if (labels) return (text) => matchLabel(text, labels) ?? answerKey(text);
  const outputs = spec.examples.map((example) => example.output.trim());
  const jsonOutputs = outputs.filter((output) => /^[[{]/u.test(output) && structuredAnswerKey(output) !== answerKey(output));
  if (spec.taskType === 'extraction' || (outputs.length > 0 && jsonOutputs.length === outputs.length)) return structuredAnswerKey;
  return answerKey;
}

function countsOf(vote: ReturnType<typeof selfConsistencyVote>): number[] {
  if (!vote) return [];
  // Empty answers are no candidate for the truth.
  return Object.entries(vote.votes)
    .filter(([text]) => text !== '')
    .map(([, count]) => count);
}

/** The first round's agreement with the final answer (unbiased: its size was fixed before any vote). */
function agreementStats(answers: readonly string[], firstRound: number, winner: string, key: (text: string) => string): AgreementStats {
  const wrong = answers.slice(0, firstRound).map(key).filter((answer) => answer !== winner);
  let equalWrongPairs = 0;
  for (let i = 0; i < wrong.length; i++) for (let j = i + 1; j < wrong.length; j++) if (wrong[i] === wrong[j]) equalWrongPairs++;
  return {
    inputs: 1,
    votes: firstRound,
    disagreeing: wrong.length,
    wrongPairs: (wrong.length * (wrong.length - 1)) / 2,
    equalWrongPairs,
    samples: answers.length,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Short hash of a prompt for provenance. The messages are built here with a fixed key order, so
 * plain JSON is already canonical (and far cheaper than a key-sorting serialisation per call).
 */
export function hashMessages(messages: readonly ChatMessage[]): string {
  return sha256(JSON.stringify(messages.map((message) => [message.role, message.content]))).slice(0, 16);
}

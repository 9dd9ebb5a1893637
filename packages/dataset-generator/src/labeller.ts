import {
  Prompt2ModelError,
  sha256,
  type ChatMessage,
  type LanguageModelClient,
  type LanguageModelRequest,
  type PromptSpec,
} from '@prompt2model/core';
import { buildLabelPrompt } from './prompts.js';
import { checkOutput, matchLabel, standardizeOutput, type QualityFilterOptions, type RejectionReason } from './quality.js';
import { selfConsistencyVote } from './self-consistency.js';

export interface SelfConsistencyLabellerOptions {
  spec: PromptSpec;
  teacher: LanguageModelClient;
  quality: QualityFilterOptions;
  /** Samples asked for first. */
  samplesPerInput: number;
  /** Most samples per input. */
  maxSamplesPerInput: number;
  minAgreement: number;
  temperature: number;
  maxTokens: number;
  maxPromptTokens: number;
  signal: AbortSignal;
  stage: string;
}

export type LabelResult =
  | { output: string; votes: Record<string, number>; agreement: number; samples: number; promptHash: string }
  | { reason: RejectionReason };

/**
 * Labels one input by self-consistency: k samples of the label prompt, more while the vote is
 * split, then the quality checks on the winner.
 */
export class SelfConsistencyLabeller {
  constructor(private readonly options: SelfConsistencyLabellerOptions) {}

  async label(input: string): Promise<LabelResult> {
    const { spec, teacher, quality } = this.options;
    let prompt;
    try {
      prompt = buildLabelPrompt({ spec, input, demonstrations: spec.examples, maxPromptTokens: this.options.maxPromptTokens });
    } catch (error) {
      if (Prompt2ModelError.isInstance(error)) return { reason: 'input-too-long' };
      throw error;
    }
    const request: Omit<LanguageModelRequest, 'n'> = {
      messages: prompt.messages,
      temperature: this.options.temperature,
      maxTokens: this.options.maxTokens,
    };
    const options = { signal: this.options.signal, stage: this.options.stage };
    // Label sets: count "Positive." and "positive" as one answer and vote in the label's spelling.
    const canonical = (text: string) => {
      const standardized = standardizeOutput(text);
      return quality.labels ? (matchLabel(standardized, quality.labels) ?? standardized) : standardized;
    };
    const maxSamples = this.options.maxSamplesPerInput;
    const samples = (await teacher.sample(request, this.options.samplesPerInput, { ...options, sampleIndex: 0 })).map(canonical);
    let vote = selfConsistencyVote(samples);
    for (let round = 1; vote && (vote.tied || !vote.majority) && samples.length < maxSamples; round++) {
      const extra = Math.min(2, maxSamples - samples.length);
      // `seed` keeps each extra round a distinct request, not a repeat of the first.
      samples.push(...(await teacher.sample({ ...request, seed: round }, extra, { ...options, sampleIndex: round })).map(canonical));
      vote = selfConsistencyVote(samples);
    }
    if (!vote) return { reason: 'empty-output' };
    const checked = checkOutput(input, vote.output, quality);
    if (checked.reason) return { reason: checked.reason };
    if (vote.agreement < this.options.minAgreement) return { reason: 'low-agreement' };
    return {
      output: checked.output,
      votes: vote.votes,
      agreement: Math.round(vote.agreement * 1000) / 1000,
      samples: samples.length,
      promptHash: hashMessages(prompt.messages),
    };
  }
}

/**
 * Short hash of a prompt for provenance. The messages are built here with a fixed key order, so
 * plain JSON is already canonical (and far cheaper than a key-sorting serialisation per call).
 */
export function hashMessages(messages: readonly ChatMessage[]): string {
  return sha256(JSON.stringify(messages.map((message) => [message.role, message.content]))).slice(0, 16);
}

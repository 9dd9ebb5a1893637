import type { Example, PromptSpec } from '@prompt2model/core/internal';
import { ContaminationIndex, type DecontaminationOptions } from './decontamination.js';
import { NearDuplicateIndex, estimateSimilarity } from './near-duplicate.js';
import { parseGeneratedCandidates } from './prompts.js';
import { checkInput, qualityOptionsFor, standardizeInput, type QualityFilterOptions, type RejectionReason } from './quality.js';
import { hash52, normalizeText } from './text.js';

/** A generated input that passed the filters, with what the commit-time dedup needs. */
export interface ScreenedInput {
  input: string;
  signature: Uint32Array;
  inputHash: number;
}

export interface ScreenResult {
  /** Candidate inputs parsed from the answers. */
  candidates: number;
  survivors: ScreenedInput[];
  rejected: Partial<Record<RejectionReason, number>>;
}

export interface CandidateFilterOptions {
  quality?: Pick<QualityFilterOptions, 'maxInputChars' | 'maxOutputChars'>;
  decontamination?: DecontaminationOptions;
  evaluationSet?: readonly Pick<Example, 'input' | 'output'>[];
  /** Character n-gram MinHash threshold for near-duplicate inputs. Default 0.8. */
  nearDuplicateThreshold?: number;
}

/**
 * What a generated input must pass before it is labelled: parseable, the quality checks, not in
 * the evaluation set, and new (exact and near-duplicate) against the inputs already kept. Kept
 * inputs are remembered with the unit that committed them, so a unit can be screened against the
 * state as of an earlier unit (which keeps requests reproducible whatever the timing).
 */
export class CandidateFilter {
  readonly quality: QualityFilterOptions;
  private readonly contamination: ContaminationIndex;
  private readonly near: NearDuplicateIndex;
  private readonly exact = new Map<number, number>();
  private readonly indexUnits: number[] = [];

  constructor(spec: PromptSpec, options: CandidateFilterOptions = {}) {
    this.quality = qualityOptionsFor(spec, options.quality);
    this.contamination = new ContaminationIndex(options.evaluationSet ?? [], options.decontamination);
    this.near = new NearDuplicateIndex({ threshold: options.nearDuplicateThreshold ?? 0.8 });
  }

  /** Records a kept input (`unit` -1 for the user's own examples). */
  remember(input: string, unit: number, signature: Uint32Array = this.near.signature(input)): void {
    const key = hash52(normalizeText(input));
    if (!this.exact.has(key)) this.exact.set(key, unit);
    this.near.add(signature);
    this.indexUnits.push(unit);
  }

  /**
   * Parses the answers of an input-generation request and screens each candidate against the
   * state as of unit `snapshot` and against the other candidates of the same request. At most
   * `perChoice` candidates are taken from each answer.
   */
  screen(answers: readonly string[], snapshot: number, perChoice: number): ScreenResult {
    const rejected: Partial<Record<RejectionReason, number>> = {};
    const reject = (reason: RejectionReason) => (rejected[reason] = (rejected[reason] ?? 0) + 1);
    const survivors: ScreenedInput[] = [];
    const unitHashes = new Set<number>();
    let candidates = 0;
    for (const answer of answers) {
      const parsed = parseGeneratedCandidates(answer);
      if (!parsed || parsed.length === 0) {
        reject('unparseable');
        continue;
      }
      // At most what was asked for: keeps a unit's size bounded (and the prompt pool big enough).
      for (const item of parsed.slice(0, perChoice)) {
        candidates++;
        const input = standardizeInput(item.input);
        const problem = checkInput(input, this.quality);
        if (problem) {
          reject(problem);
          continue;
        }
        if (this.contamination.isContaminated({ input })) {
          reject('contaminated');
          continue;
        }
        const inputHash = hash52(normalizeText(input));
        const seenUnit = this.exact.get(inputHash);
        if (unitHashes.has(inputHash) || (seenUnit !== undefined && seenUnit <= snapshot)) {
          reject('duplicate');
          continue;
        }
        const signature = this.near.signature(input);
        const nearMatch =
          survivors.some((other) => estimateSimilarity(other.signature, signature) >= this.near.threshold) ||
          this.near.findNearDuplicate(signature, { accept: (id) => this.indexUnits[id]! <= snapshot }) !== undefined;
        if (nearMatch) {
          reject('near-duplicate');
          continue;
        }
        unitHashes.add(inputHash);
        survivors.push({ input, signature, inputHash });
      }
    }
    return { candidates, survivors, rejected };
  }

  /** The final dedup at commit, against everything kept so far; undefined when the input is new. */
  duplicateOf(candidate: ScreenedInput): 'duplicate' | 'near-duplicate' | undefined {
    if (this.exact.has(candidate.inputHash)) return 'duplicate';
    if (this.near.findNearDuplicate(candidate.signature)) return 'near-duplicate';
    return undefined;
  }
}

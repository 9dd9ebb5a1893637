import type { Example } from '@prompt2model/core/internal';
import { NearDuplicateIndex } from './near-duplicate.js';
import { hash52, normalizeText, words } from './text.js';

export interface DecontaminationOptions {
  /** Word n-gram length: an example sharing any such n-gram with an evaluation text is dropped. Default 8. */
  ngramSize?: number;
  /** Character-level near-duplicate threshold (MinHash Jaccard) against evaluation inputs. Default 0.8. */
  nearDuplicateThreshold?: number;
  /** Also compare generated outputs with evaluation outputs (long texts only). Default false. */
  checkOutputs?: boolean;
}

/**
 * What must not leak into training data: the inputs (and optionally outputs) of an evaluation set,
 * indexed by word n-grams (long overlaps), exact normalised text (short ones) and MinHash (paraphrase-
 * level copies). Building it once and checking each candidate keeps decontamination streaming.
 */
export class ContaminationIndex {
  readonly ngramSize: number;
  private readonly exact = new Set<number>();
  private readonly ngrams = new Set<number>();
  private readonly near: NearDuplicateIndex;
  private readonly checkOutputs: boolean;

  constructor(evaluationSet: readonly Pick<Example, 'input' | 'output'>[], options: DecontaminationOptions = {}) {
    this.ngramSize = options.ngramSize ?? 8;
    this.checkOutputs = options.checkOutputs ?? false;
    this.near = new NearDuplicateIndex({ threshold: options.nearDuplicateThreshold ?? 0.8 });
    for (const example of evaluationSet) {
      this.addText(example.input);
      this.near.add(example.input);
      if (this.checkOutputs) this.addText(example.output);
    }
  }

  get size(): number {
    return this.near.size;
  }

  /** True when the example overlaps the evaluation set. */
  isContaminated(example: Pick<Example, 'input'> & { output?: string }): boolean {
    if (this.size === 0) return false;
    if (this.textOverlaps(example.input)) return true;
    if (this.near.findNearDuplicate(example.input)) return true;
    if (this.checkOutputs && example.output !== undefined && words(example.output).length >= this.ngramSize) {
      return this.textOverlaps(example.output);
    }
    return false;
  }

  private addText(text: string): void {
    const normalized = normalizeText(text);
    if (normalized === '') return;
    this.exact.add(hash52(normalized));
    for (const gram of wordNgrams(text, this.ngramSize)) this.ngrams.add(gram);
  }

  private textOverlaps(text: string): boolean {
    if (this.exact.has(hash52(normalizeText(text)))) return true;
    for (const gram of wordNgrams(text, this.ngramSize)) if (this.ngrams.has(gram)) return true;
    return false;
  }
}

/** Hashes of the word n-grams of a text (none when it has fewer than n words). */
function wordNgrams(text: string, n: number): number[] {
  const tokens = words(text);
  const out: number[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(hash52(tokens.slice(i, i + n).join(' ')));
  return out;
}

/** Splits examples into those that do not overlap the evaluation set and those that do. */
export function decontaminate<T extends Pick<Example, 'input' | 'output'>>(
  examples: readonly T[],
  evaluationSet: readonly Pick<Example, 'input' | 'output'>[],
  options: DecontaminationOptions = {},
): { kept: T[]; dropped: T[] } {
  const index = new ContaminationIndex(evaluationSet, options);
  const kept: T[] = [];
  const dropped: T[] = [];
  for (const example of examples) (index.isContaminated(example) ? dropped : kept).push(example);
  return { kept, dropped };
}

import type { IndexedModel } from './model-index.js';

export interface ScoreInput {
  /** BM25 relevance of the model's card to the query (> 0). */
  relevance: number;
  model: IndexedModel;
}

/** Turns relevance and model metadata into the final ranking score (higher is better). */
export type ModelScorer = (input: ScoreInput) => number;

/**
 * Popularity per tenfold in downloads, in BM25 units. Small on purpose: a model with a million
 * times more downloads gains 1.8, under a tenth of a typical match (BM25 scores of instruction
 * queries run 5–30), so it reorders near-ties and never lifts an unrelated model over a relevant one.
 */
export const POPULARITY_TIE_BREAK = 0.3;

/**
 * The default ranking: BM25 relevance, with popularity as a tie-breaker
 * (`relevance + 0.3 × log10(downloads + 1)`). Measured on the labelled relevance set
 * (bench/relevance), the reference's multiplier ranked famous general checkpoints (t5-base, 3.6M
 * downloads) above the models made for the task.
 */
export const popularityTieBreakScorer: ModelScorer = ({ relevance, model }) =>
  relevance + POPULARITY_TIE_BREAK * Math.log10((model.downloads ?? 0) + 1);

/**
 * The reference Prompt2Model ranking: BM25 × log10(downloads + 2). Kept for comparisons: a
 * multiplier lets popularity swamp relevance (a 1,000× more downloaded model wins with half the match).
 */
export const popularityWeightedScorer: ModelScorer = ({ relevance, model }) =>
  relevance * Math.log10((model.downloads ?? 0) + 2);

/** Relevance only: for research comparisons, or indexes without download counts. */
export const relevanceScorer: ModelScorer = ({ relevance }) => relevance;

/** What `ModelIndex.search` ranks by unless told otherwise. */
export const defaultModelScorer: ModelScorer = popularityTieBreakScorer;

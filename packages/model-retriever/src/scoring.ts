import type { IndexedModel } from './model-index.js';

export interface ScoreInput {
  /** BM25 relevance of the model's card to the query (> 0). */
  relevance: number;
  model: IndexedModel;
}

/** Turns relevance and model metadata into the final ranking score (higher is better). */
export type ModelScorer = (input: ScoreInput) => number;

/**
 * The reference ranking: BM25 × log10(downloads + 2). Popularity breaks near-ties toward models
 * people actually use, without letting a famous but unrelated model win (log scale, and the
 * relevance factor is 0 for cards that match nothing).
 */
export const popularityWeightedScorer: ModelScorer = ({ relevance, model }) =>
  relevance * Math.log10((model.downloads ?? 0) + 2);

/** Relevance only: for research comparisons, or indexes without download counts. */
export const relevanceScorer: ModelScorer = ({ relevance }) => relevance;

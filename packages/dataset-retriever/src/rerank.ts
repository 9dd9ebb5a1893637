import { type LanguageModelClient, lazySchema, type PromptSpec, seededRandom } from '@prompt2model/core/internal';
import type { RankedDataset } from './dataset-index.js';
import { clip, demonstrationsText } from './prompt-text.js';

export interface RerankOptions {
  /** Independent votes, each with the candidates in a different order. Default 3. */
  votes?: number;
  /** Candidates shown (the top of the BM25 ranking). Default 12. */
  maxCandidates?: number;
  /** Seed of the shuffles (deterministic, so reruns hit the LLM cache). Default 0. */
  seed?: number;
  signal?: AbortSignal;
  stage?: string;
}

export interface RerankVote {
  dataset: string | null;
  reason: string;
  /** The order the candidates were shown in. */
  order: string[];
  /** True when the answer named a dataset that was not among the candidates (counted as no vote). */
  invalid: boolean;
}

export interface RerankResult {
  /** The winner, or null when the votes say none fits (or no valid vote named one). */
  dataset: string | null;
  votes: RerankVote[];
  /** Votes per candidate id, `null` for "none fits". */
  tally: Record<string, number>;
}

const AnswerSchema = lazySchema((z) => z.object({ dataset: z.string().nullable(), reason: z.string().default('') }));

/**
 * Asks the teacher, several times with the candidates shuffled differently each time (position
 * bias; identical prompts would also be answered once from the cache), which dataset fits the task,
 * as JSON `{dataset: id | null, reason}`. "None fits" is an answer. A name that is not among the
 * candidates never wins: it counts as no vote. The winner needs more votes than "none" and than
 * any other candidate; ties go to the better BM25 rank.
 */
export async function rerankDatasets(spec: PromptSpec, candidates: RankedDataset[], teacher: LanguageModelClient, options: RerankOptions = {}): Promise<RerankResult> {
  const shown = candidates.slice(0, options.maxCandidates ?? 12);
  const votes = Math.max(1, options.votes ?? 3);
  const ids = new Map(shown.map((candidate) => [candidate.id.toLowerCase(), candidate.id]));
  const random = seededRandom(options.seed ?? 0);
  const orders = Array.from({ length: votes }, (_, vote) => (vote === 0 ? [...shown] : shuffle([...shown], random)));
  const results = await Promise.all(
    orders.map(async (order): Promise<RerankVote> => {
      const { object } = await teacher.generateObject(
        { schemaName: 'dataset_choice', temperature: 0, maxTokens: 200, messages: rerankMessages(spec, order) },
        AnswerSchema,
        { stage: options.stage ?? 'retrieve-datasets', ...(options.signal ? { signal: options.signal } : {}) },
      );
      const named = object.dataset?.trim();
      const none = !named || /^(none|null|n\/a)$/i.test(named);
      const id = none ? null : ids.get(named.toLowerCase()) ?? null;
      return { dataset: id, reason: object.reason, order: order.map((candidate) => candidate.id), invalid: !none && id === null };
    }),
  );
  const tally: Record<string, number> = {};
  for (const vote of results) {
    if (vote.invalid) continue;
    const key = vote.dataset ?? 'null';
    tally[key] = (tally[key] ?? 0) + 1;
  }
  const none = tally.null ?? 0;
  let winner: string | null = null;
  let best = 0;
  for (const candidate of shown) {
    const count = tally[candidate.id] ?? 0;
    if (count > best) {
      best = count;
      winner = candidate.id;
    }
  }
  return { dataset: best > none ? winner : null, votes: results, tally };
}

export function rerankMessages(spec: PromptSpec, candidates: RankedDataset[]): Array<{ role: 'system' | 'user'; content: string }> {
  const examples = demonstrationsText(spec, { count: 2, maxChars: 200 });
  return [
    { role: 'system', content: 'You pick training data for a machine learning task. Answer with JSON only.' },
    {
      role: 'user',
      content: [
        `Task: ${spec.instruction}`,
        ...(examples ? ['', examples] : []),
        '',
        'Candidate Hugging Face datasets:',
        ...candidates.map((candidate, index) => `${index + 1}. ${candidate.id}: ${clip(candidate.description.replace(/\s+/g, ' ').trim(), 300) || '(no description)'}`),
        '',
        'Which one dataset is the best training data for this task, with inputs and outputs of the same kind?',
        'If none fits, answer null. Answer as {"dataset": "<id exactly as listed>" or null, "reason": "one sentence"}.',
      ].join('\n'),
    },
  ];
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/** One labelled task: an instruction and the models and datasets that are acceptable answers. */
export interface RelevanceTask {
  id: string;
  instruction: string;
  /** Exact ids, or `re:PATTERN` (case-insensitive regular expressions over ids). */
  models: string[];
  datasets: string[];
}

export interface TaskResult {
  id: string;
  instruction: string;
  /** 1-based rank of the first acceptable item in the top `depth`, or null. */
  rank: number | null;
  top: string[];
}

export interface RelevanceScores {
  tasks: number;
  hitAt5: number;
  mrr: number;
  results: TaskResult[];
  /** Tasks whose acceptable items do not occur in the snapshot (left out of the figures). */
  unlabelled: string[];
}

export const TASKS_PATH = resolve(import.meta.dirname, 'tasks.json');

export async function loadRelevanceTasks(path = TASKS_PATH): Promise<RelevanceTask[]> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { tasks: RelevanceTask[] };
  return parsed.tasks;
}

/** A matcher for a task's acceptable ids. */
export function acceptable(entries: string[]): (id: string) => boolean {
  const exact = new Set(entries.filter((entry) => !entry.startsWith('re:')).map((entry) => entry.toLowerCase()));
  const patterns = entries.filter((entry) => entry.startsWith('re:')).map((entry) => new RegExp(entry.slice(3), 'i'));
  return (id) => exact.has(id.toLowerCase()) || patterns.some((pattern) => pattern.test(id));
}

/**
 * hit@5 (share of tasks with an acceptable item in the top 5) and MRR (mean of 1/rank of the first
 * acceptable item within the top `depth`, 0 when none) of a ranking function over the labelled tasks.
 * Tasks whose acceptable items are not in the index at all are left out and listed.
 */
export function scoreRanking(
  tasks: RelevanceTask[],
  pick: (task: RelevanceTask) => string[],
  rank: (instruction: string, depth: number) => string[],
  universe: readonly string[],
  depth = 100,
): RelevanceScores {
  const results: TaskResult[] = [];
  const unlabelled: string[] = [];
  for (const task of tasks) {
    const matches = acceptable(pick(task));
    if (!universe.some(matches)) {
      unlabelled.push(task.id);
      continue;
    }
    const ranked = rank(task.instruction, depth);
    const index = ranked.findIndex(matches);
    results.push({ id: task.id, instruction: task.instruction, rank: index < 0 ? null : index + 1, top: ranked.slice(0, 5) });
  }
  const hits = results.filter((result) => result.rank !== null && result.rank <= 5).length;
  const reciprocal = results.reduce((sum, result) => sum + (result.rank ? 1 / result.rank : 0), 0);
  return { tasks: results.length, hitAt5: results.length ? hits / results.length : 0, mrr: results.length ? reciprocal / results.length : 0, results, unlabelled };
}

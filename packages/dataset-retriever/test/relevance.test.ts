import { describe, expect, it } from 'vitest';
import { ModelIndex, plainQuery } from '@prompt2model/model-retriever/internal';
import { fixturePath } from '@prompt2model/testing/fixtures';
import { DatasetIndex } from '../src/index.js';
import { loadRelevanceTasks, scoreRanking } from '../../../bench/relevance/evaluate.js';

// Deterministic BM25 over fixed snapshots: these floors guard the ranking against regressions
// (figures and the before/after comparison: bench/relevance/run.ts, docs/benchmarks.md).
describe('the labelled relevance set (bench/relevance/tasks.json)', () => {
  it('has at least 40 tasks, each with acceptable models and most with acceptable datasets', async () => {
    const tasks = await loadRelevanceTasks();
    expect(tasks.length).toBeGreaterThanOrEqual(40);
    expect(tasks.every((task) => task.models.length > 0)).toBe(true);
    expect(tasks.filter((task) => task.datasets.length > 0).length).toBeGreaterThanOrEqual(40);
  });

  it('dataset retrieval keeps hit@5 ≥ 0.7 on the 2,494-dataset snapshot', async () => {
    const tasks = await loadRelevanceTasks();
    const index = await DatasetIndex.fromJsonl(fixturePath('hub/datasets.jsonl'));
    const scores = scoreRanking(tasks, (task) => task.datasets, (instruction, depth) => index.search(instruction, { topK: depth, includeGated: true }).map((c) => c.id), index.datasets().map((d) => d.id));
    expect(scores.tasks).toBeGreaterThanOrEqual(40);
    expect(scores.hitAt5).toBeGreaterThanOrEqual(0.7);
  });

  it('model retrieval keeps hit@5 ≥ 0.85 on the 11,320-card snapshot', async () => {
    const tasks = await loadRelevanceTasks();
    const index = await ModelIndex.fromJsonl(fixturePath('hub/models.jsonl'));
    const scores = scoreRanking(tasks, (task) => task.models, (instruction, depth) => index.search(plainQuery({ instruction, examples: [], language: 'en' }), { topK: depth }).map((c) => c.id), index.models().map((m) => m.id));
    expect(scores.hitAt5).toBeGreaterThanOrEqual(0.85);
    expect(scores.mrr).toBeGreaterThanOrEqual(0.65);
  }, 120_000);
});

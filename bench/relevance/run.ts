/**
 * Retrieval quality on the labelled relevance set (bench/relevance/tasks.json): hit@5 and MRR of
 * the model retriever (BM25 over the 11,320 model cards, the product's default filters) and the
 * dataset retriever (BM25 over the 2,494 dataset descriptions), with the instruction as the query.
 *
 *   node --import tsx bench/relevance/run.ts [--verbose] [--json] [--data ../shared/data/hub] [--popularity W|multiply]
 */
import { resolve } from 'node:path';
import { DatasetIndex } from '../../packages/dataset-retriever/src/index.js';
import { Bm25Index, ModelIndex, plainQuery, popularityWeightedScorer, type ModelScorer } from '../../packages/model-retriever/src/index.js';
import { loadRelevanceTasks, scoreRanking, type RelevanceScores } from './evaluate.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const dataDir = resolve(value('--data', resolve(import.meta.dirname, '../../../shared/data/hub')));

const tasks = await loadRelevanceTasks();
let started = performance.now();
const models = await ModelIndex.fromJsonl(resolve(dataDir, 'models.jsonl'));
const modelBuildMs = performance.now() - started;
started = performance.now();
const datasets = await DatasetIndex.fromJsonl(resolve(dataDir, 'datasets.jsonl'), { cacheDir: false });
const datasetBuildMs = performance.now() - started;

// --popularity W: relevance + W × log10(downloads + 1); --popularity multiply: the reference's BM25 × log10(downloads + 2).
const popularity = value('--popularity', '');
const scorer: ModelScorer | undefined =
  popularity === 'multiply' ? popularityWeightedScorer : popularity ? ({ relevance, model }) => relevance + Number(popularity) * Math.log10((model.downloads ?? 0) + 1) : undefined;
const modelScores = scoreRanking(tasks, (task) => task.models, (instruction, depth) => models.search(plainQuery({ instruction, examples: [], language: 'en' }), { topK: depth, ...(scorer ? { scorer } : {}) }).map((c) => c.id), models.models().map((m) => m.id));
started = performance.now();
const datasetScores = scoreRanking(tasks, (task) => task.datasets, (instruction, depth) => datasets.search(instruction, { topK: depth, includeGated: true }).map((c) => c.id), datasets.datasets().map((d) => d.id));
const datasetQueryMs = (performance.now() - started) / Math.max(1, datasetScores.tasks);

// Baseline for datasets: BM25 over the descriptions alone (no id words, no task metadata).
const descriptionsOnly = new Bm25Index();
datasets.datasets().forEach((dataset, position) => descriptionsOnly.add(String(position), dataset.description));
const datasetBaseline = scoreRanking(tasks, (task) => task.datasets, (instruction, depth) => descriptionsOnly.search(instruction, depth).map((hit) => datasets.datasets()[Number(hit.id)]!.id), datasets.datasets().map((d) => d.id));

if (flag('--json')) {
  console.log(JSON.stringify({ models: summary(modelScores), datasets: summary(datasetScores), datasetBaseline: summary(datasetBaseline), modelBuildMs, datasetBuildMs, datasetQueryMs }, null, 2));
} else {
  console.log(`relevance set: ${tasks.length} tasks (${modelScores.tasks} with acceptable models in the snapshot, ${datasetScores.tasks} with acceptable datasets)`);
  console.log(`models   (11,320 cards, built in ${(modelBuildMs / 1000).toFixed(1)} s): hit@5 ${modelScores.hitAt5.toFixed(3)}  MRR ${modelScores.mrr.toFixed(3)}`);
  console.log(`datasets (${datasets.size} descriptions, built in ${(datasetBuildMs / 1000).toFixed(2)} s, ${datasetQueryMs.toFixed(2)} ms/query): hit@5 ${datasetScores.hitAt5.toFixed(3)}  MRR ${datasetScores.mrr.toFixed(3)}`);
  console.log(`datasets, BM25 over descriptions only (baseline): hit@5 ${datasetBaseline.hitAt5.toFixed(3)}  MRR ${datasetBaseline.mrr.toFixed(3)}`);
  if (flag('--verbose')) {
    for (const [name, scores] of [['models', modelScores], ['datasets', datasetScores]] as const) {
      console.log(`\n${name}:`);
      for (const result of scores.results) console.log(`  ${result.rank === null ? '  -' : String(result.rank).padStart(3)}  ${result.id.padEnd(26)} ${result.top.join(', ')}`);
    }
  }
}

function summary(scores: RelevanceScores) {
  return { tasks: scores.tasks, hitAt5: round(scores.hitAt5), mrr: round(scores.mrr), ranks: Object.fromEntries(scores.results.map((r) => [r.id, r.rank])), unlabelled: scores.unlabelled };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

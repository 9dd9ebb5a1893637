// Research code swapping one stage: a model retriever that always proposes your own shortlist,
// while every other stage keeps its default. node --import tsx examples/library/custom-stage.ts
import { createPipeline, type ModelRetriever } from 'prompt2model';

const shortlist: ModelRetriever = {
  specificationVersion: 'v1',
  name: 'my-shortlist',
  async retrieve(_spec, options) {
    const ids = ['google/flan-t5-small', 'google/flan-t5-base', 't5-small'];
    return ids.slice(0, options.topK ?? 5).map((id, rank) => ({ id, score: ids.length - rank, architecture: 'encoder-decoder' as const }));
  },
};

const pipeline = createPipeline({
  outDir: 'runs/sentiment-shortlist',
  teacher: 'gpt-4o-mini',
  numExamples: 200,
  stages: { modelRetriever: shortlist, trainer: null }, // stop before training: inspect the data first
});
const result = await pipeline.run('Classify the sentiment of a review as positive or negative.\n\nInput: Great!\nOutput: positive\n\nInput: Awful.\nOutput: negative');
console.log(result.splits?.counts, result.candidates?.map((c) => c.id));

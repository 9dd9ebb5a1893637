// The README's library example, runnable: node --import tsx examples/library/pipeline.ts [prompt file] [run folder]
// Needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing at any OpenAI-compatible server) and, for the
// default local trainer, python3 with torch + transformers + peft.
import { readFile } from 'node:fs/promises';
import { createPipeline, openai } from 'prompt2model';

const [promptFile = 'examples/viggo/prompt.txt', outDir = 'runs/viggo'] = process.argv.slice(2);

const pipeline = createPipeline({
  outDir, // resumable run folder
  teacher: openai('gpt-4o-mini'), // any LanguageModel: OpenAI-compatible, HF, your own
  numExamples: 500,
  maxCostUsd: 5, // no new paid call past $5
  scheduler: { requestsPerMinute: 500 }, // your endpoint's rate limit
  training: { method: 'lora', epochs: 3 }, // LoRA r=8, alpha=16 on attention projections
  stages: { datasetRetriever: null }, // swap any stage for your own object, or skip it
});
pipeline.events.on((event) => event.type === 'progress' && console.error(event));
const result = await pipeline.run(await readFile(promptFile, 'utf8'));
console.log(result.trainedModel?.reference, result.evalReport?.metrics, `$${result.costUsd.toFixed(2)}`);

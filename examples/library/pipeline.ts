// The README's library example, exactly (a test keeps the two identical and runs this file against
// loopback servers): node --import tsx examples/library/pipeline.ts, from the repository root.
// Needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing at any OpenAI-compatible server), the Hugging
// Face Hub (or HF_ENDPOINT) for model retrieval and, for the default local trainer, the Python
// training stack (`npx prompt2model setup`). Writes the resumable run folder runs/viggo.
import { readFile } from 'node:fs/promises';
import { createPipeline, openai } from 'prompt2model';

const pipeline = createPipeline({
  outDir: 'runs/viggo',                      // resumable run folder
  teacher: openai('gpt-4o-mini'),            // any LanguageModel: OpenAI-compatible, HF, your own
  numExamples: 500,
  maxCostUsd: 5,                             // no new paid call past $5
  scheduler: { requestsPerMinute: 500 },     // your endpoint's rate limit
  training: { method: 'lora', epochs: 3 },   // LoRA r=8, alpha=16 on attention projections
  stages: { datasetRetriever: null },        // swap any stage for your own object, or skip it
});
pipeline.events.on((event) => event.type === 'progress' && console.error(event));
const result = await pipeline.run(await readFile('examples/viggo/prompt.txt', 'utf8'));
console.log(result.trainedModel?.reference, result.evalReport?.metrics, `$${result.costUsd.toFixed(2)}`);

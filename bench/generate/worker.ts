// One generation run for bench/generate/run.ts, in its own process so the same file can run the
// code in this tree or in an older one (TSX_TSCONFIG_PATH maps the workspace packages to a tree's
// sources). Uses only options both versions know. Prints one JSON line: the generator's summary.
// Args: URL OUT_DIR SPEC_FILE EXAMPLES SEED RPM
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createStageContext, type PromptSpec } from '@prompt2model/core/internal';
import { createDatasetGenerator } from '@prompt2model/dataset-generator/internal';
import { createOpenAI } from '@prompt2model/openai/internal';

const [url, outDir, specFile, examples, seed, rpm] = process.argv.slice(2);
const spec = JSON.parse(await readFile(specFile!, 'utf8')) as PromptSpec;
const context = await createStageContext({
  outDir: outDir!,
  teacher: createOpenAI({ baseURL: url!, apiKey: 'bench' })('loopback-model'),
  // What a user would pass: the endpoint's limit and a concurrency that covers the latency.
  scheduler: { requestsPerMinute: Number(rpm), maxConcurrency: 16 },
});
const started = performance.now();
const result = await createDatasetGenerator({ seed: Number(seed) }).generate(
  spec,
  { numExamples: Number(examples), outputPath: join(outDir!, 'dataset.jsonl') },
  context,
);
console.log(JSON.stringify({ wallSeconds: (performance.now() - started) / 1000, ...result.summary }));

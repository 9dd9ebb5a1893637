// Serve a finished run's model in a page, then export it as a static site:
// node --import tsx examples/library/demo.ts [run folder] [site folder]
// The run folder needs prompt-spec.json and trained-model.json (prompt2model run writes both); the
// static export needs an ONNX export of the model (prompt2model export).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDemoCreator, createStageContext, exportStaticDemo, PromptSpecSchema, TrainedModelSchema } from 'prompt2model';
import { workerExecutors } from '@prompt2model/trainer';

const [runDir = 'runs/sentiment', siteDir] = process.argv.slice(2);
const spec = PromptSpecSchema.parse(JSON.parse(await readFile(join(runDir, 'prompt-spec.json'), 'utf8')));
const model = TrainedModelSchema.parse(JSON.parse(await readFile(join(runDir, 'trained-model.json'), 'utf8')));

if (siteDir) {
  const site = await exportStaticDemo({ model, spec, outDir: siteDir }); // the student runs in the browser
  console.log(`${site.files.length} files, ${(site.bytes / 1e6).toFixed(1)} MB in ${site.outDir}`);
} else {
  const context = await createStageContext({ outDir: runDir }); // flags go to RUN/demo/flagged.jsonl
  const creator = createDemoCreator({ port: 0, keepAlive: true, executors: workerExecutors() }); // PyTorch folders via the Python worker
  const demo = await creator.create(model, spec, context);
  console.log(`Open ${demo.url} (Ctrl-C stops it)`);
  process.once('SIGINT', () => void demo.close());
  await demo.closed;
}

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonlWriter, Pipeline, type DatasetGenerator, type PromptParser } from '@prompt2model/core/internal';
import { createTrainer, LocalBackend } from '../src/internal.js';
import { FAKE_WORKER, tempDir } from './helpers.js';

// The trainer as the Pipeline's `train` stage: the pipeline builds the job from its splits and
// candidates, and a rerun takes the trained model from the run folder without training again.
describe('createTrainer inside core Pipeline', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  const promptParser: PromptParser = {
    specificationVersion: 'v1',
    name: 'fixed',
    parse: async () => ({ instruction: 'Add one.', examples: [{ input: '1', output: '2' }], language: 'en' }),
  };
  const datasetGenerator: DatasetGenerator = {
    specificationVersion: 'v1',
    name: 'counting',
    generate: async (_spec, options) => {
      const writer = await JsonlWriter.open(options.outputPath, { truncate: true });
      for (let i = 0; i < 50; i++) await writer.write({ input: `${i}`, output: `${i + 1}` });
      await writer.close();
      return { path: options.outputPath, count: 50, summary: {} };
    },
  };

  it('trains from the pipeline splits and is reused on rerun', async () => {
    const out = join(dir, 'run');
    let launches = 0;
    const backend = new LocalBackend({ workerCommand: [process.execPath, FAKE_WORKER] });
    const watch = backend.watch.bind(backend);
    backend.watch = (handle, context) => {
      launches++;
      return watch(handle, context);
    };
    const options = {
      outDir: out,
      cacheDir: false as const,
      stages: { promptParser, datasetGenerator, trainer: createTrainer({ backend }) },
      training: { baseModel: 'google/flan-t5-small', epochs: 1, batchSize: 4 },
    };
    const first = await new Pipeline(options).run('Add one to the number.');
    expect(first.trainedModel?.kind).toBe('local-folder');
    expect(first.trainedModel?.metrics.steps).toBe(Math.ceil(first.splits!.counts.train / 4));
    const second = await new Pipeline(options).run('Add one to the number.');
    expect(second.trainedModel?.reference).toBe(first.trainedModel?.reference);
    expect(launches).toBe(1);
  });
});

import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfidenceUnavailableError,
  JsonlWriter,
  Pipeline,
  type CascadeCalibration,
  type LanguageModel,
  Prompt2ModelError,
  type DatasetGenerator,
  type DatasetRetriever,
  type Evaluator,
  type ModelRetriever,
  type PromptParser,
  type Trainer,
  type TrainingJobSpec,
} from '../src/internal.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function stages(calls: string[]) {
  const promptParser: PromptParser = {
    specificationVersion: 'v1',
    name: 'fake-parser',
    parse: async (prompt) => (calls.push('parse'), { instruction: prompt, examples: [], language: 'en' }),
  };
  const datasetRetriever: DatasetRetriever = {
    specificationVersion: 'v1',
    name: 'fake-retriever',
    retrieve: async () => (calls.push('retrieve'), Array.from({ length: 30 }, (_, i) => ({ input: `r${i}`, output: 'x' }))),
  };
  const datasetGenerator: DatasetGenerator = {
    specificationVersion: 'v1',
    name: 'fake-generator',
    async generate(_spec, options) {
      calls.push(`generate:${options.numExamples}`);
      const writer = await JsonlWriter.open(options.outputPath, { truncate: true });
      for (let i = 0; i < options.numExamples; i++) await writer.write({ input: `g${i}`, output: 'y' });
      await writer.close();
      return { path: options.outputPath, count: options.numExamples, summary: { accepted: options.numExamples } };
    },
  };
  const modelRetriever: ModelRetriever = {
    specificationVersion: 'v1',
    name: 'fake-models',
    retrieve: async () => (calls.push('models'), [{ id: 't5-small', score: 2, architecture: 'encoder-decoder' as const }]),
  };
  let job: TrainingJobSpec | undefined;
  const trainer: Trainer = {
    specificationVersion: 'v1',
    name: 'fake-trainer',
    train: async (spec) => {
      calls.push('train');
      job = spec;
      return { backend: 'fake', reference: '/models/x', kind: 'local-folder' as const, baseModel: spec.baseModel, method: spec.method, artifacts: {}, metrics: {} };
    },
  };
  const evaluator: Evaluator = {
    specificationVersion: 'v1',
    name: 'fake-eval',
    evaluate: async ({ testPath }) => {
      calls.push('eval');
      const rows = (await readFile(testPath, 'utf8')).trim().split('\n');
      return { metrics: { exact_match: 1 }, count: rows.length, createdAt: new Date().toISOString() };
    },
  };
  return { stages: { promptParser, datasetRetriever, datasetGenerator, modelRetriever, trainer, evaluator }, job: () => job };
}

describe('Pipeline', () => {
  it('runs every stage in order, wires artifacts, and a rerun repeats nothing', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-'));
    dirs.push(outDir);
    const calls: string[] = [];
    const fake = stages(calls);
    const pipeline = new Pipeline({ outDir, stages: fake.stages, numExamples: 70, training: { epochs: 1 } });
    const seen: string[] = [];
    pipeline.events.on((event) => event.type === 'stage-finish' && seen.push(`${event.stage}:${event.status}`));
    const result = await pipeline.run('Do the task.');
    expect(calls).toEqual(['parse', 'retrieve', 'generate:70', 'models', 'train', 'eval']);
    expect(result.splits!.counts.train + result.splits!.counts.validation + result.splits!.counts.test).toBe(100);
    expect(fake.job()).toMatchObject({ baseModel: 't5-small', architecture: 'encoder-decoder', epochs: 1, method: 'lora', instruction: 'Do the task.' });
    expect(fake.job()!.lora).toEqual({ r: 8, alpha: 16, dropout: 0.05 });
    expect(fake.job()!.data.train).toBe(join(outDir, 'train.jsonl'));
    expect(result.evalReport!.count).toBe(result.splits!.counts.test);
    expect(seen.every((s) => s.endsWith(':done'))).toBe(true);

    const again: string[] = [];
    const rerun = await new Pipeline({ outDir, stages: stages(again).stages, numExamples: 70, training: { epochs: 1 }, maxCostUsd: 50 }).run('Do the task.');
    // A budget cap cannot change a finished step's output: nothing is redone.
    expect(again).toEqual([]);
    expect(rerun.trainedModel?.reference).toBe('/models/x');
    expect(rerun.evalReport?.metrics).toEqual({ exact_match: 1 });
  });

  it('a moved run folder reuses every finished step, its trained model found where the folder now is', async () => {
    const root = await mkdtemp(join(tmpdir(), 'p2m-pipeline-moved-'));
    dirs.push(root);
    const outDir = join(root, 'first');
    const calls: string[] = [];
    const fake = stages(calls);
    // A trainer whose model is inside the run folder, as the local backend's job folders are.
    const trainer: Trainer = {
      ...fake.stages.trainer,
      train: async (spec) => (calls.push('train'), { backend: 'fake', reference: join(outDir, 'training', 'job', 'output', 'merged'), kind: 'local-folder' as const, baseModel: spec.baseModel, method: spec.method, artifacts: { onnx: join(outDir, 'training', 'job', 'output', 'onnx') }, metrics: {} }),
    };
    await new Pipeline({ outDir, stages: { ...fake.stages, trainer }, numExamples: 70 }).run('Do the task.');
    const stored = JSON.parse(await readFile(join(outDir, 'trained-model.json'), 'utf8'));
    expect(stored).toMatchObject({ reference: 'training/job/output/merged', artifacts: { onnx: 'training/job/output/onnx' } });

    const moved = join(root, 'moved');
    await rename(outDir, moved);
    const again: string[] = [];
    const rerun = await new Pipeline({ outDir: moved, stages: stages(again).stages, numExamples: 70 }).run('Do the task.');
    // Same inputs (data paths hashed relative to the folder): nothing is redone, nothing points back.
    expect(again).toEqual([]);
    expect(rerun.trainedModel).toMatchObject({ reference: join(moved, 'training/job/output/merged'), artifacts: { onnx: join(moved, 'training/job/output/onnx') } });
  });

  it('skips stages set to null and explains a missing base model', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-'));
    dirs.push(outDir);
    const calls: string[] = [];
    const fake = stages(calls).stages;
    const error = await new Pipeline({
      outDir,
      stages: { ...fake, datasetRetriever: null, modelRetriever: null, evaluator: null },
      numExamples: 10,
    })
      .run('Task')
      .catch((e: unknown) => e);
    expect(calls).toEqual(['parse', 'generate:10']);
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    expect((error as Prompt2ModelError).hint).toMatch(/baseModel|--base-model/);
  });
});

describe('Pipeline with an empty test split', () => {
  it('says why evaluation was skipped instead of skipping silently', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-'));
    dirs.push(outDir);
    const calls: string[] = [];
    const fake = stages(calls).stages;
    // With validation 0.5 and test 0 every example lands in train or validation.
    const pipeline = new Pipeline({ outDir, stages: { ...fake, datasetRetriever: null }, numExamples: 6, split: { validation: 0.5, test: 0 } });
    const warnings: string[] = [];
    pipeline.events.on((event) => event.type === 'log' && event.level === 'warn' && warnings.push(event.message));
    const result = await pipeline.run('Task');
    expect(result.evalReport).toBeUndefined();
    expect(calls).not.toContain('eval');
    expect(warnings.some((w) => w.includes('test split is empty'))).toBe(true);
  });

  it('redoes a step whose inputs changed, and the steps after it, saying what changed', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-'));
    dirs.push(outDir);
    await new Pipeline({ outDir, stages: stages([]).stages, numExamples: 70, training: { epochs: 1 } }).run('Do the task.');

    const calls: string[] = [];
    const pipeline = new Pipeline({ outDir, stages: stages(calls).stages, numExamples: 70, training: { epochs: 2 } });
    const logs: string[] = [];
    pipeline.events.on((event) => event.type === 'log' && logs.push(event.message));
    await pipeline.run('Do the task.');
    // The fake trainer returns the same model, so evaluation's inputs are unchanged and it is kept.
    expect(calls).toEqual(['train']);
    expect(logs.some((line) => /^train: job changed since the last run; redoing it/.test(line))).toBe(true);

    const changedPrompt: string[] = [];
    const result = await new Pipeline({ outDir, stages: stages(changedPrompt).stages, numExamples: 70, training: { epochs: 2 } }).run('Do another task.');
    expect(changedPrompt).toEqual(['parse', 'retrieve', 'generate:70', 'models', 'train', 'eval']);
    expect(result.spec.instruction).toBe('Do another task.');
  });

  it('detects a dataset edited after its step finished and makes it again', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-'));
    dirs.push(outDir);
    await new Pipeline({ outDir, stages: stages([]).stages, numExamples: 70, training: { epochs: 1 } }).run('Do the task.');
    const text = await readFile(join(outDir, 'dataset.jsonl'), 'utf8');
    await writeFile(join(outDir, 'dataset.jsonl'), text.split('\n').slice(0, 10).join('\n') + '\n');
    const calls: string[] = [];
    const pipeline = new Pipeline({ outDir, stages: stages(calls).stages, numExamples: 70, training: { epochs: 1 } });
    const logs: string[] = [];
    pipeline.events.on((event) => event.type === 'log' && logs.push(event.message));
    await pipeline.run('Do the task.');
    expect(logs.some((line) => line.includes('dataset.jsonl no longer matches what this step wrote'))).toBe(true);
    expect(calls[0]).toBe('generate:70');
  });
});

describe('Pipeline: the cascade calibration step', () => {
  const teacher: LanguageModel = { specificationVersion: 'v1', provider: 'fake', modelId: 'fake-teacher', doGenerate: async () => ({ choices: [{ text: 'y', finishReason: 'stop' }], usage: { inputTokens: 1, outputTokens: 1 } }) };
  const calibration = (count: number, targetQuality: number): CascadeCalibration => ({
    version: 1,
    createdAt: 'now',
    heldOut: { split: 'validation', file: 'validation.jsonl', count },
    metric: 'exact_match',
    targetQuality,
    student: { model: 'm', quality: 1, costPer1000Usd: 0 },
    teacher: { model: 'fake-teacher', quality: 1, requests: count, cachedRequests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    curve: [{ threshold: 0.5, coverage: 1, quality: 1, relativeQuality: 1 }],
    chosen: { threshold: 0.5, coverage: 1, quality: 1, relativeQuality: 1 },
    costPer1000: { teacherOnlyUsd: 0, studentOnlyUsd: 0, cascadeUsd: 0, priced: false },
  });

  it('calibrates on the validation split after evaluation, skips it on a rerun, and redoes it for a new target', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-calibrate-'));
    dirs.push(outDir);
    const make = (calls: string[]) => {
      const fake = stages(calls).stages;
      const evaluator: Evaluator = {
        ...fake.evaluator,
        calibrate: async (request) => {
          calls.push(`calibrate:${request.targetQuality}`);
          const rows = (await readFile(request.heldOutPath, 'utf8')).trim().split('\n');
          return calibration(rows.length, request.targetQuality!);
        },
      };
      return { ...fake, evaluator };
    };
    const calls: string[] = [];
    const result = await new Pipeline({ outDir, teacher, stages: make(calls), numExamples: 70 }).run('Do the task.');
    expect(calls.slice(-2)).toEqual(['eval', 'calibrate:0.99']);
    // The validation split: held out from training, and not the test set the report's metrics use.
    expect(result.calibration!.heldOut.count).toBe(result.splits!.counts.validation);
    expect(JSON.parse(await readFile(join(outDir, 'calibration.json'), 'utf8'))).toMatchObject({ targetQuality: 0.99 });
    const again: string[] = [];
    await new Pipeline({ outDir, teacher, stages: make(again), numExamples: 70 }).run('Do the task.');
    expect(again).toEqual([]);
    const stricter: string[] = [];
    const redone = await new Pipeline({ outDir, teacher, stages: make(stricter), numExamples: 70, calibration: { targetQuality: 0.9 } }).run('Do the task.');
    expect(stricter).toEqual(['calibrate:0.9']);
    expect(redone.calibration!.targetQuality).toBe(0.9);
    const off: string[] = [];
    const skipped = await new Pipeline({ outDir: join(outDir, 'off'), teacher, stages: make(off), numExamples: 70, calibration: false }).run('Do the task.');
    expect(off.some((call) => call.startsWith('calibrate'))).toBe(false);
    expect(skipped.calibration).toBeUndefined();
  });

  it('goes on without a cascade (a warning) when the student reports no confidence', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'p2m-pipeline-calibrate-'));
    dirs.push(outDir);
    const fake = stages([]).stages;
    const evaluator: Evaluator = { ...fake.evaluator, calibrate: async () => { throw new ConfidenceUnavailableError({ model: 'm', message: 'The student reports no confidence.' }); } };
    const pipeline = new Pipeline({ outDir, teacher, stages: { ...fake, evaluator }, numExamples: 70 });
    const warnings: string[] = [];
    pipeline.events.on((event) => event.type === 'log' && event.level === 'warn' && warnings.push(event.message));
    const result = await pipeline.run('Do the task.');
    expect(result.evalReport).toBeDefined();
    expect(result.calibration).toBeUndefined();
    expect(warnings.some((message) => message.startsWith('Cascade calibration skipped: The student reports no confidence.'))).toBe(true);
    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8'));
    expect(manifest.stages.calibrate).toBeUndefined();
  });
});

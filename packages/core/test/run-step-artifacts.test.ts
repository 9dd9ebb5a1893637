import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStageContext, findDamagedOutputs, runStep, trainedModelPaths, TrainedModelSchema, type TrainedModel } from '../src/internal.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'p2m-artifacts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('runStep artifactPaths: a finished step whose files were damaged runs again', () => {
  it('redoes the step when its ONNX export folder is deleted, but not when only the model card changed', async () => {
    const out = join(dir, 'run');
    const modelDir = join(out, 'training', 'job', 'output');
    const onnx = join(out, 'training', 'job', 'output', 'onnx');
    let computed = 0;
    const compute = async (): Promise<TrainedModel> => {
      computed++;
      await mkdir(onnx, { recursive: true });
      await writeFile(join(modelDir, 'config.json'), '{"model_type":"t5"}');
      await writeFile(join(onnx, 'encoder_model.onnx'), 'weights');
      return { backend: 'local', kind: 'local-folder', reference: modelDir, baseModel: 't5-small', method: 'full', artifacts: { onnx }, metrics: {} };
    };
    const step = async () => {
      const context = await createStageContext({ outDir: out, cacheDir: false });
      const logs: string[] = [];
      context.events.on((event) => event.type === 'log' && logs.push(event.message));
      await runStep(context, 'train', 'trained-model.json', TrainedModelSchema, compute, { artifactPaths: trainedModelPaths });
      return logs;
    };
    await step();
    expect(computed).toBe(1);
    // The model card is rewritten after evaluation: that is not damage.
    await writeFile(join(modelDir, 'README.md'), '# card with test metrics');
    await writeFile(join(onnx, 'README.md'), '# card with test metrics');
    await step();
    expect(computed).toBe(1);
    expect(await findDamagedOutputs(out)).toEqual([]);

    await rm(onnx, { recursive: true });
    expect(await findDamagedOutputs(out)).toEqual([{ step: 'train', file: 'training/job/output' }, { step: 'train', file: 'training/job/output/onnx' }]);
    const logs = await step();
    expect(computed).toBe(2);
    expect(logs.join('\n')).toMatch(/train: training\/job\/output, training\/job\/output\/onnx no longer match what this step wrote/);
    expect(await findDamagedOutputs(out)).toEqual([]);
  });
});

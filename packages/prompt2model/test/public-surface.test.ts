import { describe, expect, it } from 'vitest';
import * as umbrella from 'prompt2model';
import * as testingPackage from '@prompt2model/testing';

// The umbrella's root entry is a chosen surface, not an accumulation: at most 60 runtime names, and
// exactly these. Adding one is a decision: add it here (and to the README), or export it from the
// stage package (`@prompt2model/<stage>`) or its `/internal` entry instead.
const MAX_RUNTIME_NAMES = 60;
const ALLOWED = [
  // The pipeline and the registries.
  'createPipeline', 'Pipeline', 'createStageContext', 'locateModel', 'RUN_FILES',
  'createModelRegistry', 'createExecutor', 'trainingBackends', 'stageImplementations', 'parseModelName',
  // Stage factories and what they take.
  'createPromptParser', 'createDeepLTranslator',
  'createDatasetGenerator',
  'createDatasetRetriever', 'buildDatasetIndexFromHub',
  'createModelRetriever', 'buildIndexFromHub',
  'createTrainer', 'LocalBackend', 'CommandBackend', 'createOpenAIFineTuningBackend',
  'createEvaluator', 'LanguageModelExecutor', 'OnnxExecutor', 'computeMetrics', 'compareTeacherStudent', 'scorePredictions',
  'createCascade',
  'createDemoCreator', 'startDemoServer', 'exportStaticDemo',
  // Language models, providers and the cross-cutting services a stage context carries.
  'LanguageModelClient', 'RequestScheduler', 'LLMCallCache', 'CostLedger', 'ProgressEmitter',
  'createOpenAI', 'openai', 'createOpenAIBatchTeacher', 'createHuggingFace',
  // Artifacts.
  'ExampleSchema', 'PromptSpecSchema', 'TrainedModelSchema', 'EvalReportSchema', 'readJsonl', 'readJsonlAll', 'JsonlWriter',
  // Errors.
  'Prompt2ModelError', 'APICallError', 'ValidationError', 'BudgetExceededError', 'AbortError', 'LoadSettingError', 'NoSuchEntryError', 'GatedDatasetError',
  // The run report and estimate.
  'buildRunReport', 'writeRunReport', 'estimateRun', 'formatRunEstimate',
];

describe("the umbrella's public surface", () => {
  it(`exports at most ${MAX_RUNTIME_NAMES} runtime names`, () => {
    expect(ALLOWED.length).toBeLessThanOrEqual(MAX_RUNTIME_NAMES);
    expect(Object.keys(umbrella).length).toBeLessThanOrEqual(MAX_RUNTIME_NAMES);
  });

  it('exports exactly the listed names', () => {
    expect(Object.keys(umbrella).sort()).toEqual([...ALLOWED].sort());
  });

  it('publishes no mechanism (they live in the packages\' /internal entries)', () => {
    for (const name of ['sleep', 'linkSignals', 'fnv1a32', 'shellQuote', 'runWorkerProcess', 'RunStore', 'runStep']) {
      expect({ name, exported: name in umbrella }).toEqual({ name, exported: false });
    }
  });

  it('prompt2model/testing re-exports every name of @prompt2model/testing', async () => {
    const testing = await import('prompt2model/testing');
    expect(Object.keys(testing).sort()).toEqual(Object.keys(testingPackage).sort());
    for (const name of Object.keys(testingPackage)) expect((testing as Record<string, unknown>)[name]).toBe((testingPackage as Record<string, unknown>)[name]);
  });
});

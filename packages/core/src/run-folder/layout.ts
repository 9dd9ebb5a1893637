/**
 * The run folder's layout: every file one stage writes and another (or a later command) reads, by
 * one name. Packages spell these names only through this table (architecture.test.ts checks it),
 * so renaming or adding a file is one edit here.
 */
export const RUN_FILES = {
  /** Which steps are done, their inputs' hashes and outputs' fingerprints, the cost. */
  manifest: 'manifest.json',
  promptSpec: 'prompt-spec.json',
  /** The dataset retriever's choice (query, candidates, rerank), for the report. */
  retrievedDataset: 'retrieved-dataset.json',
  retrieved: 'retrieved.jsonl',
  retrievedSummary: 'retrieved-summary.json',
  /** Generated examples (JSON Lines) and the generator's resume log beside them. */
  dataset: 'dataset.jsonl',
  datasetProgress: 'dataset.progress.jsonl',
  generationSummary: 'generation-summary.json',
  train: 'train.jsonl',
  validation: 'validation.jsonl',
  test: 'test.jsonl',
  splits: 'splits.json',
  /** Ranked base-model candidates. */
  models: 'models.json',
  /** Where the trained model is (paths relative to the run folder). */
  trainedModel: 'trained-model.json',
  evalReport: 'eval-report.json',
  teacherEvalReport: 'teacher-eval-report.json',
  /**
   * The student→teacher cascade's calibration on held-out data: the coverage-quality curve, the
   * chosen confidence threshold and the cost per 1,000 calls (`prompt2model run`, `calibrate`).
   */
  calibration: 'calibration.json',
  reportJson: 'report.json',
  reportMarkdown: 'report.md',
  reportHtml: 'report.html',
  /** `prompt2model run`'s up-front estimate of the whole run, and its record of spending and loss. */
  runEstimate: 'estimate.json',
  runRecord: 'run-record.json',
  /** Answers flagged on the demo page. */
  demoFlags: 'demo/flagged.jsonl',
  /** Training bookkeeping: `handle.json`, `estimate.json`, `events.jsonl` and one job folder per job. */
  training: 'training',
  /** The run's LLM cache when it keeps one of its own. */
  cache: 'cache',
} as const;

export type RunFileName = (typeof RUN_FILES)[keyof typeof RUN_FILES];

/** Files inside the training folder (`training/` by default). */
export const TRAINING_FILES = {
  /** The backend's job handle (its job folder relative to the run folder), so a rerun re-attaches. */
  handle: 'handle.json',
  estimate: 'estimate.json',
  events: 'events.jsonl',
} as const;

/**
 * A training job folder (`training/<job id>/`): self-contained, so it can be synced to a remote
 * machine as is. Paths inside are relative to the job folder.
 */
export const JOB_FILES = {
  /** The worker's config. */
  config: 'job.json',
  data: 'data',
  train: 'data/train.jsonl',
  validation: 'data/validation.jsonl',
  /** Checkpoints, the saved model (`model/`, `adapter/`, `merged/`), `result.json` and the ONNX export (`onnx/`). */
  output: 'output',
  /** The SkyPilot task the skypilot backend launched (a managed job); rerun by hand with `sky jobs launch`. */
  skypilotTask: 'skypilot-task.yaml',
} as const;

/** Inside a job's `output/` folder. */
export const JOB_OUTPUT_FILES = {
  /** Written last by the worker: its presence means the job is done; paths relative to `output/`. */
  result: 'result.json',
  /** The ONNX export of the trained model (transformers.js layout). */
  onnx: 'onnx',
  /** The running worker's pid and host (one worker per job folder; a managed job's rerun on a new machine clears it). */
  lock: 'worker.lock',
} as const;

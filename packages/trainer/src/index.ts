/**
 * @prompt2model/trainer: the Trainer stage. A training job spec, the backends that run it (the local
 * Python worker, a remote command, SkyPilot), the executor that runs a trained model, the ONNX export, the
 * managed Python environment and the model card. Protocol and folder helpers are under
 * `@prompt2model/trainer/internal`.
 */
export { createTrainer, type CreateTrainerOptions, type TrainerWithEstimate, type PreparedTraining } from './trainer.js';
export { parseTrainingJob } from './spec.js';
export { estimateTrainingCost, formatEstimate, type TrainingEstimate } from './estimate.js';
export { validateTrainingData, TEXT_DATA_RULES, type DataSummary, type SplitSummary } from './data.js';
export { LocalBackend, type LocalBackendOptions } from './backends/local.js';
export { CommandBackend, type CommandBackendOptions } from './backends/command.js';
export { SkyPilotBackend, type SkyPilotBackendOptions } from './backends/skypilot/index.js';
export { WorkerExecutor, workerExecutors, type WorkerExecutorOptions, type WorkerExecutorInit } from './worker-executor.js';
export { EXPORT_FORMATS, exportOnnx, exportTrainedModel, type ExportFormat, type ExportFormatName, type ExportOnnxOptions, type OnnxExportResult } from './onnx-export.js';
export { setupPythonEnvironment, probePythonStack, type ManagedEnvironment, type SetupPythonOptions, type PythonVariant } from './python-environment.js';
export { renderModelCard, writeModelCard, type ModelCardInput } from './model-card.js';
export { openTrainingData, type TrainingDataFolder } from './data-folder.js';

export * from './errors/index.js';
export * from './schemas.js';
export * from './language-model.js';
export * from './language-model-client.js';
export * from './scheduler.js';
export * from './cache.js';
export * from './cost.js';
export * from './events.js';
export * from './run-store.js';
export * from './jsonl.js';
export * from './splits.js';
export * from './stages.js';
export * from './context.js';
export * from './pipeline.js';
export { redactSecrets } from './util/redact.js';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
export { hashValue, sha256, stableStringify } from './util/hash.js';
export { sleep } from './util/sleep.js';
export { errorCode, permanentConnectionFailure } from './util/connection-failure.js';
export { stopWithParent } from './util/child-reaper.js';
export { lockFolder, LOCK_FILE } from './util/folder-lock.js';
export * from './training-prompt.js';
export * from './model-folder.js';
export { trainedModelPaths } from './trained-model-paths.js';
export { fnv1a32, seededRandom } from './util/random.js';
export {
  SETTINGS,
  childProcessEnvironment,
  loadApiKey,
  loadSetting,
  processEnvironment,
  prompt2modelCacheDir,
  secretSettingValues,
  type SettingName,
  type SettingsEnvironment,
} from './settings.js';
export type { DataFormatRules, TrainingPricing } from './trainer-backend.js';
export {
  Registry,
  createProviderRegistry,
  parseModelName,
  type LanguageModelFactory,
  type ModelName,
  type ParseModelNameOptions,
  type ProviderRegistry,
  type RegistryFactory,
} from './registry.js';
export { cooperativeTicker } from './util/cooperative.js';

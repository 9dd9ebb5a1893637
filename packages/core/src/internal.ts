/**
 * `@prompt2model/core/internal`: everything core has, the public entry's names plus the mechanisms
 * this project's packages share (hashing, atomic writes, abort fan-out, token
 * estimates, training prompts, model folders, child-process environments). No stability promise:
 * for the sibling packages and research code that accepts that. Users import `@prompt2model/core`.
 */
export * from './index.js';
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
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
export { hashValue, sha256, stableStringify } from './util/hash.js';
export { sleep } from './util/sleep.js';
export { builtSchema, lazySchema, loadZod, type ZodNamespace } from './util/lazy-zod.js';
export * from './training-prompt.js';
export * from './run-folder/index.js';
export { MODEL_CARD_REPO_PLACEHOLDER } from './model-card-repo.js';
export { errorCode, permanentConnectionFailure } from './util/connection-failure.js';
export { fnv1a32, seededRandom } from './util/random.js';
export { childProcessEnvironment, processEnvironment, prompt2modelCacheDir, secretSettingValues } from './settings.js';
export { cooperativeTicker } from './util/cooperative.js';
export { importOptionalPackage, isPackageMissing } from './util/optional-package.js';
export { stopWithParent } from './util/child-reaper.js';
export { folderLockState, lockFolder, LOCK_FILE, type FolderLockState } from './util/folder-lock.js';
export { trainedModelPaths } from './trained-model-paths.js';

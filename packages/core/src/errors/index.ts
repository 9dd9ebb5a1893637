export { Prompt2ModelError } from './prompt2model-error.js';
export { APICallError, isRetryableStatus, parseRetryAfter } from './api-call-error.js';
export { ValidationError, type ValidationIssue } from './validation-error.js';
export { BudgetExceededError } from './budget-exceeded-error.js';
export { AbortError, throwIfAborted } from './abort-error.js';
export { LoadSettingError } from './load-setting-error.js';
export { NoSuchEntryError } from './no-such-entry-error.js';
export { MissingPackageError } from './missing-package-error.js';
export { redactSecrets } from '../util/redact.js';

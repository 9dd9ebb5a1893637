/** Everything of the root entry, plus the call mapping and the task lookup (no stability promise). */
export * from './index.js';
export { studentCall, type StudentCall } from './call-options.js';
export { studentInstruction } from './student-task.js';

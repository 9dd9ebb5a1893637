/**
 * @prompt2model/ai-sdk: a trained student as an AI SDK language model (specification v4), so
 * `generateText` and `streamText` from `ai` run it in process. The mechanisms other packages may
 * share are under `@prompt2model/ai-sdk/internal`.
 */
export { createStudent, type StudentOptions } from './create-student.js';
export { StudentLanguageModel, STUDENT_PROVIDER } from './student-language-model.js';
export { createStudentProvider, type StudentProvider, type StudentProviderSettings } from './student-provider.js';

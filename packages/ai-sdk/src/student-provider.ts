import { NoSuchModelError, type ProviderV4 } from '@ai-sdk/provider';
import { resolve } from 'node:path';
import { createStudent, type StudentOptions } from './create-student.js';
import type { StudentLanguageModel } from './student-language-model.js';

/** The options every student of a provider shares (all of `StudentOptions` but the folder). */
export type StudentProviderSettings = Omit<StudentOptions, 'model' | 'modelId'>;

/**
 * An AI SDK provider of students (specification v4), for `createProviderRegistry` and
 * `customProvider` from `ai`: `provider('runs/x')` or `provider.languageModel('runs/x')` is
 * `createStudent({ model: 'runs/x', ...settings })`, made once per folder (the model loads once).
 */
export interface StudentProvider extends ProviderV4 {
  (model: string): StudentLanguageModel;
  languageModel(model: string): StudentLanguageModel;
  /** Releases every student this provider made. */
  dispose(): Promise<void>;
}

/**
 * ```ts
 * const registry = createProviderRegistry({ student: createStudentProvider() });
 * await generateText({ model: registry.languageModel('student:runs/sentiment'), prompt: 'a great film' });
 * ```
 */
export function createStudentProvider(settings: StudentProviderSettings = {}): StudentProvider {
  const students = new Map<string, StudentLanguageModel>();
  const languageModel = (model: string): StudentLanguageModel => {
    const key = resolve(model);
    let student = students.get(key);
    if (!student) {
      student = createStudent({ ...settings, model });
      students.set(key, student);
    }
    return student;
  };
  const noSuchModel = (modelType: 'embeddingModel' | 'imageModel') => (modelId: string) => {
    throw new NoSuchModelError({ modelId, modelType, message: `A student is a language model; there is no ${modelType} "${modelId}".` });
  };
  return Object.assign((model: string) => languageModel(model), {
    specificationVersion: 'v4' as const,
    languageModel,
    embeddingModel: noSuchModel('embeddingModel'),
    imageModel: noSuchModel('imageModel'),
    async dispose() {
      const all = [...students.values()];
      students.clear();
      await Promise.all(all.map((student) => student.dispose()));
    },
  });
}

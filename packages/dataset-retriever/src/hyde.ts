import { Prompt2ModelError, type LanguageModelClient, type PromptSpec } from '@prompt2model/core/internal';
import { demonstrationsText } from './prompt-text.js';

/** The chat messages that ask the teacher for the description of a hypothetical dataset for the task. */
export function datasetHydeMessages(spec: PromptSpec): Array<{ role: 'system' | 'user'; content: string }> {
  const examples = demonstrationsText(spec);
  return [
    { role: 'system', content: 'You write the descriptions of Hugging Face datasets: precise, brief, plain prose.' },
    {
      role: 'user',
      content: [
        'Write the description of a Hugging Face dataset that would be ideal training data for the task below,',
        'as its dataset card would state it: its name, what the examples are, the task type (e.g. question answering,',
        'summarization, translation, classification), the languages, and where the text comes from. Under 120 words.',
        '',
        `Task: ${spec.instruction}`,
        ...(examples ? ['', examples] : []),
      ].join('\n'),
    },
  ];
}

/**
 * HyDE for datasets: the teacher writes the description an ideal dataset would have, and that is
 * the BM25 query. Descriptions match descriptions better than instructions do (on the SQuAD task
 * it ranks `squad` first where the bare instruction ranks it 10th). Temperature 0: cached across runs.
 */
export async function datasetHydeQuery(spec: PromptSpec, teacher: LanguageModelClient, options: { signal?: AbortSignal; stage?: string } = {}): Promise<string> {
  const result = await teacher.generate(
    { messages: datasetHydeMessages(spec), temperature: 0, maxTokens: 250, ...(options.signal ? { abortSignal: options.signal } : {}) },
    { stage: options.stage ?? 'retrieve-datasets', ...(options.signal ? { signal: options.signal } : {}) },
  );
  const text = result.choices[0]?.text.trim() ?? '';
  if (text === '') {
    throw new Prompt2ModelError({ message: `The teacher (${teacher.modelId}) returned an empty dataset description for HyDE.`, hint: 'Try another `teacher` model, or search without `hyde`.' });
  }
  // The instruction stays in the query: the task's own words still count.
  return `${spec.instruction}\n${text}`;
}

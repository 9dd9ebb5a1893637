/**
 * The text a student model sees for one input, as the reference Prompt2Model textualised it:
 * `<task 0>{instruction}\nExample:\n{input}\nLabel:\n`. Training (the trainer and its Python worker)
 * and inference (the evaluator's executors) must agree on it exactly, so it lives here, once.
 */
export function formatTrainingPrompt(instruction: string, input: string, taskId = 0): string {
  return `<task ${taskId}>${instruction}\nExample:\n${input}\nLabel:\n`;
}

/** A chat-format fine-tuning row (OpenAI supervised fine-tuning, and any chat fine-tuning API). */
export interface ChatTrainingRow {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
}

/** The instruction becomes the system message, the input the user turn, the output the answer. */
export function toChatRow(example: { input: string; output: string }, instruction: string): ChatTrainingRow {
  const messages: ChatTrainingRow['messages'] = [];
  if (instruction.trim() !== '') messages.push({ role: 'system', content: instruction });
  messages.push({ role: 'user', content: example.input }, { role: 'assistant', content: example.output });
  return { messages };
}

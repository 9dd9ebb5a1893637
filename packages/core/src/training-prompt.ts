/**
 * The text a student model sees for one input, as the reference Prompt2Model textualised it:
 * `<task 0>{instruction}\nExample:\n{input}\nLabel:\n`. Training (the trainer and its Python worker)
 * and inference (the evaluator's executors) must agree on it exactly, so it lives here, once.
 */
export function formatTrainingPrompt(instruction: string, input: string, taskId = 0): string {
  return `<task ${taskId}>${instruction}\nExample:\n${input}\nLabel:\n`;
}

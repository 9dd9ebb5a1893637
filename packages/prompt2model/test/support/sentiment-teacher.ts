import { fnv1a32 } from '@prompt2model/core/internal';
import type { ChatCompletionRequestBody, ChatRequestInfo } from '@prompt2model/testing';

/** A two-label sentiment prompt with marked examples (parsed without an LLM). */
export const SENTIMENT_PROMPT = [
  'Classify the sentiment of the review as positive or negative.',
  '',
  'Input: The soup was wonderful and hot.',
  'Output: positive',
  '',
  'Input: The waiter ignored us all evening.',
  'Output: negative',
  '',
].join('\n');

/**
 * A loopback teacher for that task: structured requests get three new reviews, unique per request
 * and choice ("good" ones are positive); label requests get the true label; HyDE requests get a
 * model card about review sentiment.
 */
export function sentimentTeacher(body: ChatCompletionRequestBody, { choiceIndex }: ChatRequestInfo): string {
  const system = String(body.messages[0]?.content ?? '');
  if (system.includes('model cards')) return '# T5 for review sentiment\nA text2text-generation t5 model fine-tuned for sentiment classification of reviews.';
  if (body.response_format) {
    const base = fnv1a32(JSON.stringify(body.messages) + String(body.seed)) + choiceIndex * 1000;
    const examples = [0, 1, 2].map((i) => {
      const id = base + i;
      // About as long as the prompt's demonstrations, as a real teacher's inputs are (the run's
      // estimate sizes traffic from them); the base-36 ids keep every input unique.
      return { input: `The ${id % 2 === 0 ? 'good' : 'bad'} ${['pasta', 'room', 'film', 'phone'][id % 4]} ${id.toString(36)}.`, output: '' };
    });
    return JSON.stringify({ examples });
  }
  return String(body.messages.at(-1)?.content ?? '').includes('good') ? 'positive' : 'negative';
}

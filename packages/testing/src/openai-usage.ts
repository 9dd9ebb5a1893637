import { encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';

/**
 * Token usage as OpenAI reports it, so costs measured against the loopback servers are what the
 * real API would bill: the model family's BPE (o200k_base for gpt-4o, gpt-4.1, gpt-5 and the
 * o-series, cl100k_base otherwise), and for chat prompts the cookbook's framing (3 tokens a message
 * plus its role and content, 3 priming the reply).
 */
export function chatUsage(model: string, messages: ReadonlyArray<{ role: string; content: string }>, answers: readonly string[]) {
  const encode = /^(ft:)?(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o)/.test(model) ? encodeO200k : encodeCl100k;
  let promptTokens = 3;
  for (const message of messages) promptTokens += 3 + encode(message.role).length + encode(message.content).length;
  const completionTokens = answers.reduce((sum, answer) => sum + encode(answer).length, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

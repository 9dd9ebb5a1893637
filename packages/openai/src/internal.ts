/**
 * `@prompt2model/openai/internal`: the public entry's names plus the helpers this project's other
 * packages (the CLI, the demo, benchmarks) use. No stability promise; users import `@prompt2model/openai`.
 */
export * from './index.js';
export { toAPICallError } from './openai-chat-language-model.js';
export { DEFAULT_OPENAI_BASE_URL, type OpenAIConfig } from './openai-config.js';

export * from './mock-language-model.js';
export * from './openai-server.js';
export * from './deepl-server.js';

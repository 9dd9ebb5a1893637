export * from './mock-language-model.js';
export * from './openai-server.js';
export * from './deepl-server.js';
export * from './onnx/index.js';
export * from './openai-finetuning-server.js';
export * from './hub-server.js';
export * from './openai-batch-server.js';
export * from './loopback-http.js';

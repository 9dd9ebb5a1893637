export { HuggingFaceChatLanguageModel, type HuggingFaceChatSettings, type HuggingFaceConfig } from './huggingface-chat-language-model.js';
export { createHuggingFace, type HuggingFaceProvider, type HuggingFaceProviderSettings } from './huggingface-provider.js';
export * from './hub/index.js';

export {
  HuggingFaceChatLanguageModel,
  createHuggingFace,
  type HuggingFaceChatSettings,
  type HuggingFaceProviderSettings,
} from './huggingface-chat-language-model.js';
export * from './hub/index.js';

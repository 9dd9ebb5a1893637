/**
 * `prompt2model/testing`: test doubles for research code and tests, the same ones this project's
 * tests use: a mock LanguageModel, loopback servers that speak the real protocols (OpenAI chat,
 * Batch and fine-tuning; the Hugging Face Hub; DeepL), and builders of tiny ONNX models.
 */
export * from '@prompt2model/testing';

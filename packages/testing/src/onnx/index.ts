export { buildTinyEncoder, buildTinySeq2Seq, SENTIMENT_LABELS, lastKeywordSentiment, buildTinyCausalLM, wordsOf, type TinyEncoderOptions, type TinySeq2SeqOptions, type TinyCausalLMOptions, type TinyModelInfo } from './models.js';
export { encodeModel, floatTensor, int64Tensor, node, valueInfo, type Dimension, type ElementType } from './graph.js';
export { wordPieceTokenizerFiles, type WordPieceTokenizerSpec, type TokenizerFiles } from './tokenizer.js';

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel, floatTensor, int64Tensor, node, valueInfo } from './graph.js';
import { wordPieceTokenizerFiles } from './tokenizer.js';

/**
 * A tiny T5-style model (transformers.js layout, encoder + merged decoder) that answers the label
 * of the keywords anywhere in its input: every keyword votes for its label, the most votes win,
 * and an input without keywords gets an empty answer. Unlike a first-word model it answers the
 * same through the training prompt format, so tests see the real prompt path. Built with the
 * ONNX helpers of this folder; loaded by transformers.js in Node and in the browser.
 */
export async function buildKeywordSeq2Seq(dir: string, labels: Record<string, string>, options: { quantizedCopy?: boolean } = {}): Promise<void> {
  const specialTokens = ['<pad>', '</s>', '<unk>'];
  const words = [...new Set([...Object.keys(labels), ...Object.values(labels), 'task', '0', 'example', 'label'])];
  const tokenizer = wordPieceTokenizerFiles({
    specialTokens,
    words,
    template: ['$A', '</s>'],
    unkToken: '<unk>',
    tokenizerConfig: { tokenizer_class: 'PreTrainedTokenizer', model_max_length: 512, pad_token: '<pad>', eos_token: '</s>', unk_token: '<unk>' },
  });
  const vocab = tokenizer.vocab;
  const size = vocab.size;
  const pad = 0;
  const eos = 1;
  const identity = new Float32Array(size * size);
  for (let index = 0; index < size; index++) identity[index * size + index] = 1;
  const transitions = new Float32Array(size * size);
  for (let token = 0; token < size; token++) if (token !== pad) transitions[token * size + eos] = 10;
  const gate = new Float32Array(size);
  gate[pad] = 1;
  const votes = new Float32Array(size * size);
  for (const [keyword, label] of Object.entries(labels)) votes[vocab.get(keyword)! * size + vocab.get(label)!] = 10;
  const bias = new Float32Array(size);
  bias[eos] = 1;
  const encoder = encodeModel({
    name: 'keyword-encoder',
    inputs: [valueInfo('input_ids', 'int64', ['batch_size', 'encoder_sequence_length'])],
    outputs: [valueInfo('last_hidden_state', 'float', ['batch_size', 'encoder_sequence_length', size])],
    initializers: [floatTensor('one_hot', [size, size], identity)],
    nodes: [node('Gather', ['one_hot', 'input_ids'], ['last_hidden_state'], { axis: 0 })],
  });
  const decoder = encodeModel({
    name: 'keyword-decoder',
    inputs: [
      valueInfo('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']),
      valueInfo('encoder_hidden_states', 'float', ['batch_size', 'encoder_sequence_length', size]),
    ],
    outputs: [valueInfo('logits', 'float', ['batch_size', 'decoder_sequence_length', size])],
    initializers: [
      floatTensor('transitions', [size, size], transitions),
      floatTensor('gate', [size, 1], gate),
      floatTensor('votes', [size, size], votes),
      floatTensor('bias', [size], bias),
      int64Tensor('sequence_axis', [1], [1]),
    ],
    nodes: [
      node('Gather', ['transitions', 'input_ids'], ['base_logits'], { axis: 0 }),
      node('ReduceSum', ['encoder_hidden_states', 'sequence_axis'], ['bag'], { keepdims: 0 }),
      node('MatMul', ['bag', 'votes'], ['vote_logits']),
      node('Add', ['vote_logits', 'bias'], ['answer_logits']),
      node('Unsqueeze', ['answer_logits', 'sequence_axis'], ['answer_logits_3d']),
      node('Gather', ['gate', 'input_ids'], ['gate_values'], { axis: 0 }),
      node('Mul', ['answer_logits_3d', 'gate_values'], ['gated_answer']),
      node('Add', ['base_logits', 'gated_answer'], ['logits']),
    ],
  });
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const files: Record<string, string | Uint8Array> = {
    'config.json': JSON.stringify({
      model_type: 't5',
      architectures: ['T5ForConditionalGeneration'],
      is_encoder_decoder: true,
      vocab_size: size,
      d_model: size,
      d_kv: size,
      d_ff: size,
      num_layers: 1,
      num_decoder_layers: 1,
      num_heads: 1,
      pad_token_id: pad,
      eos_token_id: eos,
      decoder_start_token_id: pad,
    }),
    'generation_config.json': JSON.stringify({ decoder_start_token_id: pad, eos_token_id: eos, pad_token_id: pad }),
    'tokenizer.json': tokenizer['tokenizer.json'],
    'tokenizer_config.json': tokenizer['tokenizer_config.json'],
    'onnx/encoder_model.onnx': encoder,
    'onnx/decoder_model_merged.onnx': decoder,
    // The same graphs under the q8 names: the export ships both variants and the page offers the choice.
    ...(options.quantizedCopy ? { 'onnx/encoder_model_quantized.onnx': encoder, 'onnx/decoder_model_merged_quantized.onnx': decoder } : {}),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

/** Sentiment labels for tests: keyword → label. */
export const SENTIMENT_LABELS = { great: 'positive', good: 'positive', loved: 'positive', awful: 'negative', bad: 'negative', boring: 'negative' };

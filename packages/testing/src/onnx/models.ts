import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@prompt2model/core/internal';
import { encodeModel, floatTensor, int64Tensor, node, valueInfo } from './graph.js';
import { wordPieceTokenizerFiles, wordsOf } from './tokenizer.js';

/**
 * Tiny ONNX models that the real @huggingface/transformers runtime loads from a local folder
 * (`config.json`, `tokenizer.json`, `tokenizer_config.json`, `onnx/*.onnx`), built in
 * milliseconds with deterministic weights. For tests of code that runs models: BERTScore over an
 * encoder, executors over a seq2seq or causal LM. They are not trained; their behaviour is
 * written into the weights so tests can predict the outputs.
 */

const DEFAULT_WORDS = [
  'the', 'a', 'cat', 'dog', 'is', 'sleeping', 'playing', 'barking', 'on', 'mat', 'sat', 'man', 'bit',
  'hello', 'world', 'yes', 'no', 'positive', 'negative', 'good', 'bad', 'movie', 'great', 'awful',
  'translate', 'english', 'to', 'french', 'bonjour', 'chat', 'chien', 'le', 'monde', 'and', 'it',
  'was', 'not', '.', ',', '!', '?', ':',
];

async function writeFolder(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
}

export interface TinyEncoderOptions {
  /** Extra vocabulary words (lowercase); a default English word list is always included. */
  words?: string[];
  /** Hidden size (default 16). */
  hiddenSize?: number;
  /** Seed of the deterministic weights (default 7). */
  seed?: number;
}

export interface TinyModelInfo {
  dir: string;
  /** token → id, special tokens included. */
  vocab: Map<string, number>;
  /** Ids of the special tokens. */
  specialIds: number[];
}

/**
 * A BERT-style encoder for feature extraction: `input_ids`, `attention_mask` → `last_hidden_state`
 * `[batch, sequence, hidden]` = tanh(E[token]·W + masked-mean(E)·U), so each token vector depends on
 * its own token and (through the mean) on the whole sentence, and padding never changes a result.
 * A second output, `hidden_states.1` = tanh(E[token]·W), stands in for an earlier layer.
 * The tokenizer adds `[CLS]` … `[SEP]` like BERT.
 */
export async function buildTinyEncoder(dir: string, options: TinyEncoderOptions = {}): Promise<TinyModelInfo> {
  const specialTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const tokenizer = wordPieceTokenizerFiles({
    specialTokens,
    words: [...new Set([...DEFAULT_WORDS, ...(options.words ?? [])])],
    template: ['[CLS]', '$A', '[SEP]'],
    unkToken: '[UNK]',
    tokenizerConfig: {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 512,
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      mask_token: '[MASK]',
    },
  });
  const vocabSize = tokenizer.vocab.size;
  const hidden = options.hiddenSize ?? 16;
  const random = seededRandom(options.seed ?? 7);
  const gaussianish = (scale: number) => (random() + random() + random() - 1.5) * scale;
  const embeddings = Array.from({ length: vocabSize * hidden }, () => gaussianish(1));
  const tokenWeights = Array.from({ length: hidden * hidden }, () => gaussianish(0.6));
  const contextWeights = Array.from({ length: hidden * hidden }, () => gaussianish(0.3));
  const model = encodeModel({
    name: 'tiny-encoder',
    inputs: [valueInfo('input_ids', 'int64', ['batch_size', 'sequence_length']), valueInfo('attention_mask', 'int64', ['batch_size', 'sequence_length'])],
    outputs: [
      valueInfo('last_hidden_state', 'float', ['batch_size', 'sequence_length', hidden]),
      valueInfo('hidden_states.1', 'float', ['batch_size', 'sequence_length', hidden]),
    ],
    initializers: [
      floatTensor('embeddings', [vocabSize, hidden], embeddings),
      floatTensor('token_weights', [hidden, hidden], tokenWeights),
      floatTensor('context_weights', [hidden, hidden], contextWeights),
      int64Tensor('axis_1', [1], [1]),
      int64Tensor('axis_2', [1], [2]),
    ],
    nodes: [
      node('Gather', ['embeddings', 'input_ids'], ['token_embeddings'], { axis: 0 }),
      node('MatMul', ['token_embeddings', 'token_weights'], ['token_part']),
      node('Tanh', ['token_part'], ['hidden_states.1']),
      node('Cast', ['attention_mask'], ['mask_float'], { to: 1 }),
      node('Unsqueeze', ['mask_float', 'axis_2'], ['mask_3d']),
      node('Mul', ['token_embeddings', 'mask_3d'], ['masked_embeddings']),
      node('ReduceSum', ['masked_embeddings', 'axis_1'], ['embedding_sum'], { keepdims: 1 }),
      node('ReduceSum', ['mask_3d', 'axis_1'], ['mask_count'], { keepdims: 1 }),
      node('Div', ['embedding_sum', 'mask_count'], ['embedding_mean']),
      node('MatMul', ['embedding_mean', 'context_weights'], ['context_part']),
      node('Add', ['token_part', 'context_part'], ['pre_activation']),
      node('Tanh', ['pre_activation'], ['last_hidden_state']),
    ],
  });
  await writeFolder(dir, {
    'config.json': JSON.stringify({
      model_type: 'bert',
      architectures: ['BertModel'],
      vocab_size: vocabSize,
      hidden_size: hidden,
      num_hidden_layers: 1,
      num_attention_heads: 1,
      intermediate_size: hidden,
      max_position_embeddings: 512,
      pad_token_id: 0,
    }),
    'tokenizer.json': tokenizer['tokenizer.json'],
    'tokenizer_config.json': tokenizer['tokenizer_config.json'],
    'onnx/model.onnx': model,
  });
  return { dir, vocab: tokenizer.vocab, specialIds: specialTokens.map((token) => tokenizer.vocab.get(token)!) };
}

export interface TinySeq2SeqOptions {
  /** Extra vocabulary words (lowercase). */
  words?: string[];
  /**
   * What the model answers: the first word of the input → the one output word. Words not listed
   * are echoed. Every word is added to the vocabulary.
   */
  answers?: Record<string, string>;
  /**
   * `first-word` (default): the first input word decides, as above. `keywords`: every word of
   * `answers` anywhere in the input votes for its answer and the most votes win; an input without
   * one gets an empty answer. A keyword model answers the same through a prompt template (the
   * training prompt format), which a first-word model cannot.
   */
  answerFrom?: 'first-word' | 'keywords';
  /** Also write the graphs under transformers.js's q8 names (`*_quantized.onnx`). */
  quantizedCopy?: boolean;
}

/** Keyword → label pairs for a sentiment model (`answerFrom: 'keywords'`). */
export const SENTIMENT_LABELS: Readonly<Record<string, string>> = { great: 'positive', good: 'positive', loved: 'positive', awful: 'negative', bad: 'negative', boring: 'negative' };

/**
 * The label a careful reader gives a review: the sentiment of its last keyword (so "great plot but
 * awful acting" is negative), `neutral` without one. A teacher for the keyword student, which is
 * unsure exactly where the keywords disagree (a tie of votes).
 */
export function lastKeywordSentiment(text: string): string {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  const last = [...words].reverse().find((word) => SENTIMENT_LABELS[word] !== undefined);
  return last ? SENTIMENT_LABELS[last]! : 'neutral';
}

/**
 * A T5-style encoder-decoder (`encoder_model.onnx` + `decoder_model_merged.onnx`, no KV cache) for
 * the `text2text-generation` task: it answers the mapped first input word (or the keywords' vote),
 * then `</s>`.
 */
export async function buildTinySeq2Seq(dir: string, options: TinySeq2SeqOptions = {}): Promise<TinyModelInfo> {
  const answers = Object.fromEntries(Object.entries(options.answers ?? {}).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]));
  const specialTokens = ['<pad>', '</s>', '<unk>'];
  const words = [...new Set([...DEFAULT_WORDS, ...(options.words ?? []), ...Object.keys(answers), ...Object.values(answers)])];
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
  // After any real token the answer is over: `</s>` wins.
  const transitions = new Float32Array(size * size);
  for (let token = 0; token < size; token++) if (token !== pad) transitions[token * size + eos] = 10;
  // Only right after the decoder start token (`<pad>`) does the input matter.
  const gate = new Float32Array(size);
  gate[pad] = 1;
  const keywords = options.answerFrom === 'keywords';
  const answerMap = new Float32Array(size * size);
  for (const [token, id] of vocab) {
    if (keywords) {
      if (answers[token] !== undefined) answerMap[id * size + vocab.get(answers[token])!] = 10;
      continue;
    }
    const target = id < specialTokens.length ? eos : (vocab.get(answers[token] ?? token) ?? id);
    answerMap[id * size + target] = 10;
  }
  // Keywords: without a vote, `</s>` (an empty answer) wins.
  const answerBias = new Float32Array(size);
  if (keywords) answerBias[eos] = 1;
  const encoder = encodeModel({
    name: 'tiny-seq2seq-encoder',
    inputs: [valueInfo('input_ids', 'int64', ['batch_size', 'encoder_sequence_length'])],
    outputs: [valueInfo('last_hidden_state', 'float', ['batch_size', 'encoder_sequence_length', size])],
    initializers: [floatTensor('one_hot', [size, size], identity)],
    nodes: [node('Gather', ['one_hot', 'input_ids'], ['last_hidden_state'], { axis: 0 })],
  });
  const decoder = encodeModel({
    name: 'tiny-seq2seq-decoder',
    inputs: [
      valueInfo('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']),
      valueInfo('encoder_hidden_states', 'float', ['batch_size', 'encoder_sequence_length', size]),
    ],
    outputs: [valueInfo('logits', 'float', ['batch_size', 'decoder_sequence_length', size])],
    initializers: [
      floatTensor('transitions', [size, size], transitions),
      floatTensor('gate', [size, 1], gate),
      floatTensor('answer_map', [size, size], answerMap),
      floatTensor('answer_bias', [size], answerBias),
      int64Tensor('first_position', [], [0]),
      int64Tensor('axis_1', [1], [1]),
    ],
    nodes: [
      node('Gather', ['transitions', 'input_ids'], ['base_logits'], { axis: 0 }),
      // The one-hot encoder states: the first token's, or the whole input's bag of words.
      keywords
        ? node('ReduceSum', ['encoder_hidden_states', 'axis_1'], ['answer_source'], { keepdims: 0 })
        : node('Gather', ['encoder_hidden_states', 'first_position'], ['answer_source'], { axis: 1 }),
      node('MatMul', ['answer_source', 'answer_map'], ['answer_votes']),
      node('Add', ['answer_votes', 'answer_bias'], ['answer_logits']),
      node('Unsqueeze', ['answer_logits', 'axis_1'], ['answer_logits_3d']),
      node('Gather', ['gate', 'input_ids'], ['gate_values'], { axis: 0 }),
      node('Mul', ['answer_logits_3d', 'gate_values'], ['gated_answer']),
      node('Add', ['base_logits', 'gated_answer'], ['logits']),
    ],
  });
  await writeFolder(dir, {
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
    ...(options.quantizedCopy ? { 'onnx/encoder_model_quantized.onnx': encoder, 'onnx/decoder_model_merged_quantized.onnx': decoder } : {}),
  });
  return { dir, vocab, specialIds: [pad, eos, 2] };
}

export interface TinyCausalLMOptions {
  words?: string[];
  /** Next word after each word; a word not listed is followed by the end-of-text token. */
  next?: Record<string, string>;
  /**
   * What follows the end-of-text token (default: the end-of-text token again). A word here makes a
   * model that keeps talking after its end token, as real models do: an executor must cut each
   * answer at its first end token, or batched answers carry the rows' extra tokens.
   */
  afterEnd?: string;
  /**
   * With a key/value cache, in the layout transformers.js feeds (`input_ids`, `attention_mask`,
   * `position_ids`, `past_key_values.0.key|value` → `logits`, `present.0.key|value`). The cache holds
   * one-hot tokens, and the model never repeats a token it has seen (the prompt's or its own,
   * padding masked out): a cycle in `next` ends with the end token once it comes around, which a
   * runner that drops or mixes up the cache would not do.
   */
  kvCache?: boolean;
}

/**
 * A GPT-2-style decoder-only model (`model.onnx`) for `text-generation`: the next token depends
 * only on the last one, following `next`, until `<|endoftext|>` (and, with `kvCache`, on the
 * tokens in the cache).
 */
export async function buildTinyCausalLM(dir: string, options: TinyCausalLMOptions = {}): Promise<TinyModelInfo> {
  const next = Object.fromEntries(Object.entries(options.next ?? {}).map(([from, to]) => [from.toLowerCase(), to.toLowerCase()]));
  const specialTokens = ['<|endoftext|>', '<unk>'];
  const afterEnd = options.afterEnd?.toLowerCase();
  const words = [...new Set([...DEFAULT_WORDS, ...(options.words ?? []), ...Object.keys(next), ...Object.values(next), ...(afterEnd ? [afterEnd] : [])])];
  const tokenizer = wordPieceTokenizerFiles({
    specialTokens,
    words,
    template: [],
    unkToken: '<unk>',
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizer',
      model_max_length: 512,
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      unk_token: '<unk>',
    },
  });
  const vocab = tokenizer.vocab;
  const size = vocab.size;
  const eos = 0;
  const transitions = new Float32Array(size * size);
  for (const [token, id] of vocab) {
    const target = id === eos && afterEnd ? vocab.get(afterEnd)! : next[token] === undefined ? eos : vocab.get(next[token])!;
    transitions[id * size + target] = 10;
  }
  const model = options.kvCache
    ? cachedCausalGraph(size, transitions)
    : encodeModel({
        name: 'tiny-causal-lm',
        inputs: [valueInfo('input_ids', 'int64', ['batch_size', 'sequence_length'])],
        outputs: [valueInfo('logits', 'float', ['batch_size', 'sequence_length', size])],
        initializers: [floatTensor('transitions', [size, size], transitions)],
        nodes: [node('Gather', ['transitions', 'input_ids'], ['logits'], { axis: 0 })],
      });
  await writeFolder(dir, {
    'config.json': JSON.stringify({
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: size,
      n_embd: size,
      n_head: 1,
      n_layer: 1,
      n_positions: 512,
      bos_token_id: eos,
      eos_token_id: eos,
    }),
    'generation_config.json': JSON.stringify({ bos_token_id: eos, eos_token_id: eos, pad_token_id: eos }),
    'tokenizer.json': tokenizer['tokenizer.json'],
    'tokenizer_config.json': tokenizer['tokenizer_config.json'],
    'onnx/model.onnx': model,
  });
  return { dir, vocab, specialIds: [eos, 1] };
}

/** The causal LM with a one-hot key/value cache: logits = transitions[token] − 20 × (times each token is in the unmasked cache). */
function cachedCausalGraph(size: number, transitions: Float32Array): Uint8Array {
  const identity = new Float32Array(size * size);
  for (let index = 0; index < size; index++) identity[index * size + index] = 1;
  const cache = ['batch_size', 1, 'past_sequence_length', size] as const;
  const present = ['batch_size', 1, 'total_sequence_length', size] as const;
  return encodeModel({
    name: 'tiny-causal-lm-kv',
    inputs: [
      valueInfo('input_ids', 'int64', ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', 'int64', ['batch_size', 'total_sequence_length']),
      valueInfo('position_ids', 'int64', ['batch_size', 'sequence_length']),
      valueInfo('past_key_values.0.key', 'float', [...cache]),
      valueInfo('past_key_values.0.value', 'float', [...cache]),
    ],
    outputs: [
      valueInfo('logits', 'float', ['batch_size', 'sequence_length', size]),
      valueInfo('present.0.key', 'float', [...present]),
      valueInfo('present.0.value', 'float', [...present]),
    ],
    initializers: [
      floatTensor('transitions', [size, size], transitions),
      floatTensor('one_hot', [size, size], identity),
      floatTensor('repeat_penalty', [], [-20]),
      floatTensor('zero', [], [0]),
      int64Tensor('axis_1', [1], [1]),
      int64Tensor('axis_2', [1], [2]),
      int64Tensor('axes_1_3', [2], [1, 3]),
    ],
    nodes: [
      node('Gather', ['transitions', 'input_ids'], ['base_logits'], { axis: 0 }),
      node('Gather', ['one_hot', 'input_ids'], ['new_tokens'], { axis: 0 }),
      node('Unsqueeze', ['new_tokens', 'axis_1'], ['new_entries']),
      node('Concat', ['past_key_values.0.key', 'new_entries'], ['present.0.key'], { axis: 2 }),
      node('Concat', ['past_key_values.0.value', 'new_entries'], ['present.0.value'], { axis: 2 }),
      // Padding (attention_mask 0) does not count; the positions only need to be accepted.
      node('Cast', ['attention_mask'], ['mask_float'], { to: 1 }),
      node('Unsqueeze', ['mask_float', 'axes_1_3'], ['mask_4d']),
      node('Mul', ['present.0.key', 'mask_4d'], ['seen_entries']),
      node('ReduceSum', ['seen_entries', 'axis_2'], ['seen_counts'], { keepdims: 0 }),
      node('Mul', ['seen_counts', 'repeat_penalty'], ['penalty']),
      node('Add', ['base_logits', 'penalty'], ['penalised_logits']),
      node('Cast', ['position_ids'], ['positions_float'], { to: 1 }),
      node('ReduceSum', ['positions_float'], ['position_sum'], { keepdims: 0 }),
      node('Mul', ['position_sum', 'zero'], ['position_term']),
      node('Add', ['penalised_logits', 'position_term'], ['logits']),
    ],
  });
}

export { wordsOf };

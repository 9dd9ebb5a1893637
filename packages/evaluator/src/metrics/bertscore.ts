import { readFile } from 'node:fs/promises';
import { Prompt2ModelError, ValidationError } from '@prompt2model/core/internal';
import {
  loadTransformers,
  modelLoadError,
  modelLocation,
  pretrainedOptions,
  type ModelLoadOptions,
  type TransformersModel,
  type TransformersTokenizer,
} from '../transformers-runtime.js';

/**
 * BERTScore (Zhang et al., 2020) as the `bert_score` package computes it: contextual token
 * embeddings, cosine similarity, greedy matching (each candidate token to its most similar
 * reference token for precision, and the other way for recall), optional idf weights from the
 * references, optional baseline rescaling, and the max per component over several references.
 *
 * Special tokens added by the tokenizer (`<s>`, `</s>`, `[CLS]`, `[SEP]`) get weight 0 in the
 * averages but remain candidates in the max, as in `bert_score`.
 *
 * Layer caveat: `bert_score` reads an intermediate layer (layer 9 of 12 for xlm-roberta-base,
 * 17 of 24 for roberta-large). Standard ONNX exports only output `last_hidden_state`, the final
 * layer, so scores from them are systematically different (usually lower and less spread) than
 * `bert_score`'s. For parity, export the model truncated to that layer, or with its hidden states
 * as outputs and pick one with `outputName` (e.g. `hidden_states.9`); and use baselines computed
 * for the same layer.
 */

/** One text as the encoder saw it: unit-length token vectors and which tokens are special. */
export interface EncodedText {
  tokenIds: number[];
  /** Row-major `[tokens × hidden]`, each row L2-normalised. */
  vectors: Float32Array;
  hidden: number;
  /** True for tokens the tokenizer added (special tokens), which get weight 0. */
  special: boolean[];
}

/** Anything that turns texts into contextual token embeddings. */
export interface TokenEncoder {
  readonly modelId: string;
  encode(texts: readonly string[]): Promise<EncodedText[]>;
  dispose?(): Promise<void>;
}

export interface TransformersTokenEncoderOptions extends ModelLoadOptions {
  /** A local folder (config.json, tokenizer.json, onnx/model.onnx) or, with remote models allowed, a Hub id. */
  model: string;
  /** Which model output holds the token embeddings (default `last_hidden_state`; see the layer caveat). */
  outputName?: string;
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /** Longest token sequence; longer texts are truncated (default: the tokenizer's `model_max_length`). */
  maxLength?: number;
}

/** A TokenEncoder over an ONNX encoder run by @huggingface/transformers (feature extraction, no pooling). */
export class TransformersTokenEncoder implements TokenEncoder {
  readonly modelId: string;
  private loading: Promise<{ tokenizer: TransformersTokenizer; model: TransformersModel }> | undefined;

  constructor(private readonly options: TransformersTokenEncoderOptions) {
    this.modelId = options.model;
  }

  private load(): Promise<{ tokenizer: TransformersTokenizer; model: TransformersModel }> {
    this.loading ??= (async () => {
      const transformers = await loadTransformers();
      const loadOptions = pretrainedOptions(this.options);
      try {
        const [tokenizer, model] = await Promise.all([
          transformers.AutoTokenizer.from_pretrained(modelLocation(this.options.model), loadOptions),
          transformers.AutoModel.from_pretrained(modelLocation(this.options.model), loadOptions),
        ]);
        tokenizer.padding_side = 'right';
        return { tokenizer, model };
      } catch (error) {
        throw modelLoadError(this.options.model, error, this.options);
      }
    })();
    this.loading.catch(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  async encode(texts: readonly string[]): Promise<EncodedText[]> {
    const { tokenizer, model } = await this.load();
    const template = tokenizer.encode('');
    const outputName = this.options.outputName ?? 'last_hidden_state';
    const batchSize = Math.max(1, this.options.batchSize ?? 32);
    const results = new Array<EncodedText>(texts.length);
    // Longest first, as bert_score does, so each batch pads little.
    const order = texts.map((_, index) => index).sort((a, b) => texts[b]!.length - texts[a]!.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const batchIndexes = order.slice(start, start + batchSize);
      const batchTexts = batchIndexes.map((index) => texts[index]!);
      const inputs = tokenizer(batchTexts, {
        padding: true,
        truncation: true,
        ...(this.options.maxLength ? { max_length: this.options.maxLength } : {}),
      });
      const outputs = await model(inputs);
      const states = outputs[outputName];
      if (!states) {
        throw new Prompt2ModelError({
          message: `The model ${this.modelId} has no output "${outputName}" (it has ${Object.keys(outputs).join(', ')}).`,
          hint: 'Set outputName to one of the listed outputs.',
        });
      }
      const [, sequenceLength, hidden] = states.dims as [number, number, number];
      const data = states.data as Float32Array;
      const ids = inputs.input_ids.data as BigInt64Array;
      const masks = inputs.attention_mask.data as BigInt64Array;
      const width = inputs.input_ids.dims[1]!;
      batchIndexes.forEach((textIndex, row) => {
        let length = 0;
        for (let token = 0; token < width; token++) if (masks[row * width + token] !== 0n) length++;
        const tokenIds = Array.from(ids.subarray(row * width, row * width + length), Number);
        const vectors = new Float32Array(length * hidden);
        for (let token = 0; token < length; token++) {
          const offset = (row * sequenceLength + token) * hidden;
          let norm = 0;
          for (let k = 0; k < hidden; k++) norm += data[offset + k]! * data[offset + k]!;
          norm = Math.sqrt(norm) || 1;
          for (let k = 0; k < hidden; k++) vectors[token * hidden + k] = data[offset + k]! / norm;
        }
        results[textIndex] = { tokenIds, vectors, hidden, special: specialMask(template, tokenIds) };
      });
    }
    return results;
  }

  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading).model.dispose();
  }
}

/**
 * Marks the tokens the tokenizer's template added around the text itself (`[CLS] … [SEP]`,
 * `<s> … </s>`, `… </s>`), from `template`, the encoding of the empty string: its tokens that
 * also open the encoding are the prefix, the rest the suffix.
 */
function specialMask(template: readonly number[], tokenIds: readonly number[]): boolean[] {
  let prefix = 0;
  while (prefix < template.length && prefix < tokenIds.length && tokenIds[prefix] === template[prefix]) prefix++;
  const suffix = Math.min(template.length - prefix, tokenIds.length - prefix);
  return tokenIds.map((_, index) => index < prefix || index >= tokenIds.length - suffix);
}

/** Precision, recall and F1 of one candidate against one reference. */
export interface BertScoreTriple {
  precision: number;
  recall: number;
  f1: number;
}

/** Token weights: idf, or 1; always 0 for special tokens. */
export type TokenWeights = (tokenId: number) => number;

/**
 * bert_score's `greedy_cos_idf` for one pair. Weights are normalised per sentence. A sentence
 * with no text tokens (only special tokens) scores 0, as bert_score does for empty sentences.
 */
export function greedyMatch(candidate: EncodedText, reference: EncodedText, weight: TokenWeights = () => 1): BertScoreTriple {
  const hidden = candidate.hidden;
  const nc = candidate.tokenIds.length;
  const nr = reference.tokenIds.length;
  if (!candidate.special.includes(false) || !reference.special.includes(false)) return { precision: 0, recall: 0, f1: 0 };
  const bestForCandidate = new Float64Array(nc).fill(-Infinity);
  const bestForReference = new Float64Array(nr).fill(-Infinity);
  const candidateVectors = candidate.vectors;
  const referenceVectors = reference.vectors;
  for (let i = 0; i < nc; i++) {
    const a = i * hidden;
    let bestRow = -Infinity;
    for (let j = 0; j < nr; j++) {
      const b = j * hidden;
      let dot = 0;
      for (let k = 0; k < hidden; k++) dot += candidateVectors[a + k]! * referenceVectors[b + k]!;
      if (dot > bestRow) bestRow = dot;
      if (dot > bestForReference[j]!) bestForReference[j] = dot;
    }
    bestForCandidate[i] = bestRow;
  }
  const weighted = (text: EncodedText, best: Float64Array): number => {
    let total = 0;
    let sum = 0;
    for (let index = 0; index < text.tokenIds.length; index++) {
      const w = text.special[index] ? 0 : weight(text.tokenIds[index]!);
      total += w;
      sum += w * best[index]!;
    }
    return total > 0 ? sum / total : 0;
  };
  const precision = weighted(candidate, bestForCandidate);
  const recall = weighted(reference, bestForReference);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1: Number.isNaN(f1) ? 0 : f1 };
}

/**
 * bert_score's `get_idf_dict`: idf(t) = ln((M + 1) / (df(t) + 1)) over the M reference texts,
 * ln(M + 1) for tokens never seen; special tokens weigh 0 anyway.
 */
export function idfWeights(references: readonly EncodedText[]): TokenWeights {
  const documentFrequency = new Map<number, number>();
  for (const reference of references) {
    for (const id of new Set(reference.tokenIds)) documentFrequency.set(id, (documentFrequency.get(id) ?? 0) + 1);
  }
  const total = references.length;
  return (id) => Math.log((total + 1) / ((documentFrequency.get(id) ?? 0) + 1));
}

/** Baseline values for rescaling: `(x - b) / (1 - b)`, per component. */
export interface BertScoreBaseline {
  precision: number;
  recall: number;
  f1: number;
}

/** Reads one row of a bert_score baseline file (`LAYER,P,R,F` CSV, e.g. `rescale_baseline/en/roberta-large.tsv`). */
export async function loadBertScoreBaseline(path: string, layer: number): Promise<BertScoreBaseline> {
  return parseBertScoreBaseline(await readFile(path, 'utf8'), layer, path);
}

export function parseBertScoreBaseline(text: string, layer: number, source = 'baseline file'): BertScoreBaseline {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = lines[0]?.split(',').map((cell) => cell.trim().toUpperCase());
  const columns = ['LAYER', 'P', 'R', 'F'].map((name) => header?.indexOf(name) ?? -1);
  if (columns.some((column) => column < 0)) {
    throw new ValidationError({ subject: source, issues: [{ path: 'header', message: 'expected the columns LAYER,P,R,F' }] });
  }
  for (const line of lines.slice(1)) {
    const cells = line.split(',').map(Number);
    if (cells[columns[0]!] === layer) return { precision: cells[columns[1]!]!, recall: cells[columns[2]!]!, f1: cells[columns[3]!]! };
  }
  throw new ValidationError({
    subject: source,
    issues: [{ path: 'LAYER', message: `no row for layer ${layer}` }],
    hint: 'Use the layer your embeddings come from (bert_score: 9 for xlm-roberta-base, 17 for roberta-large).',
  });
}

/** bert_score's baseline rescaling, applied separately to P, R and F. */
export function rescaleBertScore(score: BertScoreTriple, baseline: BertScoreBaseline): BertScoreTriple {
  return {
    precision: (score.precision - baseline.precision) / (1 - baseline.precision),
    recall: (score.recall - baseline.recall) / (1 - baseline.recall),
    f1: (score.f1 - baseline.f1) / (1 - baseline.f1),
  };
}

export interface BertScoreOptions extends Partial<TransformersTokenEncoderOptions> {
  /** A ready encoder (reused across calls); otherwise one is built from `model`. */
  encoder?: TokenEncoder;
  /** Weight tokens by idf computed from the references (default false). */
  idf?: boolean;
  /** Rescale with these baseline values (e.g. from `loadBertScoreBaseline`). */
  baseline?: BertScoreBaseline;
  /** Called after each batch of texts is encoded. */
  onProgress?: (done: number, total: number) => void;
}

export interface BertScoreResult {
  precision: number[];
  recall: number[];
  f1: number[];
  mean: BertScoreTriple;
  modelId: string;
}

/** bert_score's default model for multilingual text, as Prompt2Model uses it; an ONNX export of it. */
export const DEFAULT_BERTSCORE_MODEL = 'Xenova/xlm-roberta-base';

/**
 * BERTScore of each prediction against its reference(s): per-example and mean precision, recall
 * and F1. `references[i]` is a string or an array of strings (the max per component counts).
 */
export async function bertScore(
  predictions: readonly string[],
  references: ReadonlyArray<string | readonly string[]>,
  options: BertScoreOptions = {},
): Promise<BertScoreResult> {
  if (predictions.length !== references.length) {
    throw new ValidationError({
      subject: 'BERTScore input',
      issues: [{ path: '', message: `${predictions.length} predictions but ${references.length} references` }],
      hint: 'Give one reference (or one array of references) per prediction, in the same order.',
    });
  }
  const ownEncoder = options.encoder === undefined;
  const encoder = options.encoder ?? new TransformersTokenEncoder({ ...options, model: options.model ?? DEFAULT_BERTSCORE_MODEL });
  try {
    const referenceLists = references.map((reference) => (typeof reference === 'string' ? [reference] : reference));
    referenceLists.forEach((list, index) => {
      if (list.length === 0) {
        throw new ValidationError({ subject: 'BERTScore references', issues: [{ path: String(index), message: 'has no reference' }] });
      }
    });
    const flatReferences = referenceLists.flat();
    const total = predictions.length + flatReferences.length;
    const encodedPredictions = await encoder.encode(predictions);
    options.onProgress?.(predictions.length, total);
    const encodedReferences = await encoder.encode(flatReferences);
    options.onProgress?.(total, total);
    const weight = options.idf ? idfWeights(encodedReferences) : () => 1;
    const precision: number[] = [];
    const recall: number[] = [];
    const f1: number[] = [];
    let offset = 0;
    predictions.forEach((_, index) => {
      let best: BertScoreTriple = { precision: -Infinity, recall: -Infinity, f1: -Infinity };
      for (let k = 0; k < referenceLists[index]!.length; k++) {
        const score = greedyMatch(encodedPredictions[index]!, encodedReferences[offset + k]!, weight);
        best = {
          precision: Math.max(best.precision, score.precision),
          recall: Math.max(best.recall, score.recall),
          f1: Math.max(best.f1, score.f1),
        };
      }
      offset += referenceLists[index]!.length;
      const final = options.baseline ? rescaleBertScore(best, options.baseline) : best;
      precision.push(final.precision);
      recall.push(final.recall);
      f1.push(final.f1);
    });
    const average = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
    return { precision, recall, f1, mean: { precision: average(precision), recall: average(recall), f1: average(f1) }, modelId: encoder.modelId };
  } finally {
    if (ownEncoder) await encoder.dispose?.();
  }
}

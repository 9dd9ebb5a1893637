import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyEncoder } from '@prompt2model/testing';
import { fixturePath, readJsonFixture } from '@prompt2model/testing/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bertScore,
  greedyMatch,
  loadBertScoreBaseline,
  parseBertScoreBaseline,
  rescaleBertScore,
  TransformersTokenEncoder,
  type EncodedText,
} from '../src/metrics/bertscore.js';

const vectors = readJsonFixture<{
  cases: Array<{ id: string; expected: { P: number[]; R: number[]; F: number[] }; tolerance: number }>;
}>('metrics/bertscore_vectors.json');

let root: string;
let modelDir: string;
let encoder: TransformersTokenEncoder;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-bertscore-'));
  modelDir = (await buildTinyEncoder(join(root, 'encoder'), { words: ['lemons', 'love', 'like', 'proud', 'you', 'go', 'i', 'am', 'of'] })).dir;
  encoder = new TransformersTokenEncoder({ model: modelDir, batchSize: 3 });
});

afterAll(async () => {
  await encoder.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('baseline rescaling against bert_score reference numbers', () => {
  it.each([
    ['no_idf', 'no_idf_rescaled'],
    ['idf', 'idf_rescaled'],
  ])('rescales %s to %s with the roberta-large layer-17 baseline', async (rawId, rescaledId) => {
    const baseline = await loadBertScoreBaseline(fixturePath('metrics/bert_score_rescale_baseline/en/roberta-large.tsv'), 17);
    expect(baseline).toEqual({ precision: 0.83150584, recall: 0.8314941, f1: 0.83122575 });
    const raw = vectors.cases.find((entry) => entry.id === rawId)!.expected;
    const expected = vectors.cases.find((entry) => entry.id === rescaledId)!;
    raw.P.forEach((_, index) => {
      const rescaled = rescaleBertScore({ precision: raw.P[index]!, recall: raw.R[index]!, f1: raw.F[index]! }, baseline);
      expect(Math.abs(rescaled.precision - expected.expected.P[index]!)).toBeLessThan(expected.tolerance);
      expect(Math.abs(rescaled.recall - expected.expected.R[index]!)).toBeLessThan(expected.tolerance);
      expect(Math.abs(rescaled.f1 - expected.expected.F[index]!)).toBeLessThan(expected.tolerance);
    });
  });

  it('rejects baseline files without the layer or the columns', () => {
    expect(() => parseBertScoreBaseline('LAYER,P,R,F\n1,0.1,0.2,0.3\n', 9)).toThrow(/no row for layer 9/);
    expect(() => parseBertScoreBaseline('A,B\n1,2\n', 1)).toThrow(/LAYER,P,R,F/);
  });
});

function encoded(rows: number[][], special: boolean[], tokenIds?: number[]): EncodedText {
  const hidden = rows[0]!.length;
  const vectors = new Float32Array(rows.length * hidden);
  rows.forEach((row, index) => {
    const norm = Math.hypot(...row);
    row.forEach((value, k) => (vectors[index * hidden + k] = value / norm));
  });
  return { tokenIds: tokenIds ?? rows.map((_, index) => index + 10), vectors, hidden, special };
}

describe('greedy matching', () => {
  it('matches each token to its most similar counterpart, special tokens weighing 0', () => {
    // candidate: [CLS] x y [SEP]; reference: [CLS] x [SEP]
    const candidate = encoded([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, -1]], [true, false, false, true]);
    const reference = encoded([[0, 0, 1], [1, 0, 0], [0, 0, -1]], [true, false, true]);
    const score = greedyMatch(candidate, reference);
    // x matches x (1); y's best is 0 (orthogonal to every reference vector).
    expect(score.precision).toBeCloseTo(0.5, 6);
    expect(score.recall).toBeCloseTo(1, 6);
    expect(score.f1).toBeCloseTo((2 * 0.5 * 1) / 1.5, 6);
    // With y weighted 3 times x, precision is (1 * 1 + 3 * 0) / 4.
    const weighted = greedyMatch(candidate, reference, (id) => (id === 12 ? 3 : 1));
    expect(weighted.precision).toBeCloseTo(0.25, 6);
  });

  it('scores 0 when a side has no text tokens, as bert_score does for empty sentences', () => {
    const empty = encoded([[1, 0], [0, 1]], [true, true]);
    const text = encoded([[1, 0], [1, 1], [0, 1]], [true, false, true]);
    expect(greedyMatch(empty, text)).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
});

/** An independent, unbatched BERTScore over the same model: one text per forward pass, plain loops. */
async function referenceBertScore(candidate: string, reference: string, idf?: Map<number, number>): Promise<[number, number, number]> {
  const transformers = await import('@huggingface/transformers');
  const tokenizer = await transformers.AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
  const model = await transformers.AutoModel.from_pretrained(modelDir, { local_files_only: true, dtype: 'fp32' });
  const embed = async (text: string) => {
    const inputs = tokenizer(text);
    const output = await model(inputs);
    const state = output.last_hidden_state as { dims: number[]; data: Float32Array };
    const [, length, hidden] = state.dims as [number, number, number];
    const ids = Array.from(inputs.input_ids.data as BigInt64Array, Number);
    const rows = Array.from({ length }, (_, token) => {
      const row = Array.from(state.data.subarray(token * hidden, (token + 1) * hidden));
      const norm = Math.hypot(...row);
      return row.map((value) => value / norm);
    });
    return { ids, rows };
  };
  const c = await embed(candidate);
  const r = await embed(reference);
  const cosine = (a: number[], b: number[]) => a.reduce((sum, value, k) => sum + value * b[k]!, 0);
  // [CLS] and [SEP] are the first and last token of a BERT encoding.
  const weight = (ids: number[], index: number) => (index === 0 || index === ids.length - 1 ? 0 : (idf?.get(ids[index]!) ?? 1));
  const side = (from: typeof c, to: typeof c) => {
    let total = 0;
    let sum = 0;
    from.rows.forEach((row, i) => {
      const best = Math.max(...to.rows.map((other) => cosine(row, other)));
      total += weight(from.ids, i);
      sum += weight(from.ids, i) * best;
    });
    return sum / total;
  };
  const p = side(c, r);
  const rec = side(r, c);
  await model.dispose();
  return [p, rec, (2 * p * rec) / (p + rec)];
}

describe('bertScore over a tiny ONNX encoder', () => {
  const predictions = ['The cat is sleeping.', 'The dog is barking!', 'hello world'];
  const references = ['The cat is sleeping.', 'The dog is playing.', 'a great movie'];

  it('gives 1 for identical texts and agrees with an unbatched reference computation', async () => {
    const result = await bertScore(predictions, references, { encoder });
    expect(result.precision[0]).toBeCloseTo(1, 6);
    expect(result.recall[0]).toBeCloseTo(1, 6);
    expect(result.f1[0]).toBeCloseTo(1, 6);
    for (let index = 0; index < predictions.length; index++) {
      const [p, r, f] = await referenceBertScore(predictions[index]!, references[index]!);
      expect(result.precision[index]).toBeCloseTo(p, 5);
      expect(result.recall[index]).toBeCloseTo(r, 5);
      expect(result.f1[index]).toBeCloseTo(f, 5);
    }
    expect(result.f1[1]).toBeLessThan(1);
    expect(result.mean.f1).toBeCloseTo(result.f1.reduce((a, b) => a + b, 0) / 3, 12);
  });

  it('weights tokens by idf computed from the references', async () => {
    const result = await bertScore(predictions, references, { encoder, idf: true });
    const tokenizer = await (await import('@huggingface/transformers')).AutoTokenizer.from_pretrained(modelDir, { local_files_only: true });
    const documentFrequency = new Map<number, number>();
    for (const reference of references) for (const id of new Set(tokenizer.encode(reference))) documentFrequency.set(id, (documentFrequency.get(id) ?? 0) + 1);
    const idf = new Map<number, number>();
    for (let id = 0; id < 200; id++) idf.set(id, Math.log(4 / ((documentFrequency.get(id) ?? 0) + 1)));
    for (let index = 0; index < predictions.length; index++) {
      const [p, r, f] = await referenceBertScore(predictions[index]!, references[index]!, idf);
      expect(result.precision[index]).toBeCloseTo(p, 5);
      expect(result.recall[index]).toBeCloseTo(r, 5);
      expect(result.f1[index]).toBeCloseTo(f, 5);
    }
    const plain = await bertScore(predictions, references, { encoder });
    expect(result.precision[1]).not.toBeCloseTo(plain.precision[1]!, 6);
  });

  it('takes the max per component over several references', async () => {
    const candidates = ['I like lemons.'];
    const options = ['I am proud of you.', 'I love lemons.', 'Go go go.'];
    const multi = await bertScore(candidates, [options], { encoder });
    const singles = await Promise.all(options.map((reference) => bertScore(candidates, [reference], { encoder })));
    // Not all components need come from the same reference.
    expect(new Set(singles.map((single) => single.f1[0])).size).toBe(3);
    expect(multi.precision[0]).toBeCloseTo(Math.max(...singles.map((single) => single.precision[0]!)), 8);
    expect(multi.recall[0]).toBeCloseTo(Math.max(...singles.map((single) => single.recall[0]!)), 8);
    expect(multi.f1[0]).toBeCloseTo(Math.max(...singles.map((single) => single.f1[0]!)), 8);
  });

  it('rescales with a baseline and reads another output when asked', async () => {
    const baseline = { precision: 0.5, recall: 0.6, f1: 0.55 };
    const raw = await bertScore(predictions, references, { encoder });
    const rescaled = await bertScore(predictions, references, { encoder, baseline });
    expect(rescaled.f1[1]).toBeCloseTo((raw.f1[1]! - 0.55) / 0.45, 12);
    const earlyLayer = await bertScore(predictions, references, { model: modelDir, outputName: 'hidden_states.1' });
    expect(earlyLayer.f1[1]).not.toBeCloseTo(raw.f1[1]!, 4);
    await expect(bertScore(predictions, references, { model: modelDir, outputName: 'hidden_states.9' })).rejects.toThrow(/no output "hidden_states.9"/);
  });

  it('scores an empty prediction 0, as bert_score does', async () => {
    const result = await bertScore(['', 'hello world'], ['hello world', 'hello world'], { encoder });
    expect([result.precision[0], result.recall[0], result.f1[0]]).toEqual([0, 0, 0]);
    expect(result.f1[1]).toBeCloseTo(1, 6);
  });

  it('refuses remote models by default, with a hint', async () => {
    const error = await bertScore(['a'], ['a'], { model: join(root, 'missing') }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/Could not load the ONNX model/);
    expect((error as { hint?: string }).hint).toMatch(/Remote loading is off/);
  });
});

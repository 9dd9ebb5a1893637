import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnx } from '../src/onnx/graph.js';
import { buildTinyCausalLM, buildTinyEncoder, buildTinySeq2Seq, SENTIMENT_LABELS } from '../src/onnx/models.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'p2m-onnx-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tiny ONNX model builders', () => {
  it('builds the same encoder bytes for the same seed and different ones for another', async () => {
    await buildTinyEncoder(join(root, 'a'), { seed: 3 });
    await buildTinyEncoder(join(root, 'b'), { seed: 3 });
    await buildTinyEncoder(join(root, 'c'), { seed: 4 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => readFile(join(root, name, 'onnx/model.onnx'))));
    expect(a!.equals(b!)).toBe(true);
    expect(a!.equals(c!)).toBe(false);
    const decoded = onnx.ModelProto.decode(a!);
    expect(decoded.graph?.output?.map((output) => output.name)).toEqual(['last_hidden_state', 'hidden_states.1']);
  });

  it('answers through @huggingface/transformers from a local folder', async () => {
    const transformers = await import('@huggingface/transformers');
    transformers.env.allowRemoteModels = false;
    const seq2seq = await buildTinySeq2Seq(join(root, 's2s'), { answers: { hello: 'bonjour' } });
    const generate = await transformers.pipeline('text2text-generation', seq2seq.dir, { dtype: 'fp32' });
    expect(await generate(['hello there', 'dog'], { max_new_tokens: 5 })).toEqual([{ generated_text: 'bonjour' }, { generated_text: 'dog' }]);
    const causal = await buildTinyCausalLM(join(root, 'lm'), { next: { translate: 'bonjour', bonjour: 'monde' } });
    const complete = await transformers.pipeline('text-generation', causal.dir, { dtype: 'fp32' });
    const [output] = (await complete('please translate', { max_new_tokens: 5, return_full_text: false })) as Array<{ generated_text: string }>;
    expect(output!.generated_text.trim()).toBe('bonjour monde');
  });
});

describe('buildTinySeq2Seq with keyword answers', () => {
  it('answers the keywords vote wherever they are, and nothing without a keyword', async () => {
    const transformers = await import('@huggingface/transformers');
    transformers.env.allowRemoteModels = false;
    const model = await buildTinySeq2Seq(join(root, 'keywords'), { answers: SENTIMENT_LABELS, answerFrom: 'keywords', quantizedCopy: true });
    expect((await readdir(join(model.dir, 'onnx'))).sort()).toEqual(['decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx', 'encoder_model.onnx', 'encoder_model_quantized.onnx']);
    const generate = await transformers.pipeline('text2text-generation', model.dir, { dtype: 'fp32' });
    const answer = async (text: string) => ((await generate(text, { max_new_tokens: 4 })) as Array<{ generated_text: string }>)[0]!.generated_text;
    // The keyword may sit anywhere, e.g. inside the training prompt's template.
    expect(await answer('<task 0>Classify.\nExample:\nthe film was great\nLabel:\n')).toBe('positive');
    expect(await answer('awful, boring, but good acting')).toBe('negative');
    expect(await answer('the cat sat')).toBe('');
    await generate.dispose();
  });
});

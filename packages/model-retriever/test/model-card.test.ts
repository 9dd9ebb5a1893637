import { describe, expect, it } from 'vitest';
import { cardSearchText, detectArchitecture, detectLicense, parseCardMetadata, splitFrontMatter } from '../src/internal.js';

const trainerCard = `---
license: apache-2.0
language:
- en
- de
tags:
- generated_from_trainer
datasets: [wmt16]
metrics:
- bleu
model-index:
- name: t5-small-finetuned-en-to-de
  results:
  - task:
      name: Sequence-to-sequence Language Modeling
      type: text2text-generation
    metrics:
    - name: Bleu
      type: bleu
      value: 13.0723
---

<!-- This model card has been generated automatically. -->

# t5-small-finetuned-en-to-de

This model is a fine-tuned version of [t5-small](https://huggingface.co/t5-small) on the wmt16 dataset.

## Model description

More information needed

## Training procedure

### Training hyperparameters

- learning_rate: 2e-05
- optimizer: Adam with betas=(0.9,0.999)

### Training results

| Training Loss | Epoch | Step | Bleu |
|:-------------:|:-----:|:----:|:----:|
| 1.2624        | 1.0   | 500  | 13.07 |

### Framework versions

- Transformers 4.28.0

## Usage

\`\`\`python
from transformers import AutoModelForSeq2SeqLM
\`\`\`

Use it for English to German translation.
`;

describe('model card parsing', () => {
  it('splits and reads the front matter', () => {
    expect(splitFrontMatter(trainerCard).body).toMatch(/^\s*<!--/);
    expect(splitFrontMatter('no front matter').frontMatter).toBe('');
    const metadata = parseCardMetadata(trainerCard);
    expect(metadata.license).toBe('apache-2.0');
    expect(metadata.languages).toEqual(['en', 'de']);
    expect(metadata.datasets).toEqual(['wmt16']);
    expect(metadata.tags).toEqual(['generated_from_trainer']);
    expect(metadata.taskTypes).toEqual(['text2text-generation']);
    expect(parseCardMetadata('---\nlicense: "MIT"\nbase_model: google/flan-t5-base\n---\n').baseModels).toEqual(['google/flan-t5-base']);
  });

  it('indexes what the model does, not how it was trained', () => {
    const text = cardSearchText('someone/t5-small-finetuned-en-to-de', trainerCard);
    // Language codes of the id pair become tokens (never words), and the direction gets its own token.
    expect(text).toContain('t5 small finetuned langen to langde');
    expect(text).toContain('l2lendeq');
    expect(text).toMatch(/english[\s\S]*german/);
    expect(text).toContain('fine-tuned version of [t5-small]');
    expect(text).toContain('English to German translation');
    for (const dropped of ['learning_rate', 'Training Loss', 'Transformers 4.28.0', 'AutoModelForSeq2SeqLM', 'generated automatically', '13.0723', 'https://', 'More information needed']) {
      expect(text).not.toContain(dropped);
    }
  });

  it('detects licenses', () => {
    expect(detectLicense(trainerCard)).toBe('apache-2.0');
    expect(detectLicense('---\nlicense:\n- "CC-BY-4.0"\n---\n')).toBe('cc-by-4.0');
    expect(detectLicense('# no metadata')).toBeUndefined();
  });
});

describe('detectArchitecture', () => {
  it('trusts config.json first', () => {
    expect(detectArchitecture({ id: 'x/gpt2-lookalike', config: { architectures: ['T5ForConditionalGeneration'], model_type: 't5' } })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'x/t5-lookalike', config: { architectures: ['LlamaForCausalLM'] } })).toBe('decoder-only');
    expect(detectArchitecture({ config: { architectures: ['LlavaForConditionalGeneration'], model_type: 'llava_llama' } })).toBe('decoder-only');
    expect(detectArchitecture({ config: { is_encoder_decoder: true } })).toBe('encoder-decoder');
    expect(detectArchitecture({ config: { architectures: ['BertForMaskedLM'], model_type: 'bert' } })).toBe('encoder-only');
  });

  it('reads the family from the model id', () => {
    expect(detectArchitecture({ id: 'google/flan-t5-base' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'Helsinki-NLP/opus-mt-en-de' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'facebook/bart-large-cnn' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'google/mt5-small' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'gpt2' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'EleutherAI/gpt-neo-125m' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'facebook/opt-350m' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'bigscience/bloomz-560m' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'bert-base-uncased' })).toBe('encoder-only');
    expect(detectArchitecture({ id: 'patrickvonplaten/bert2bert_cnn_daily_mail' })).toBe('encoder-decoder');
    // Family names inside compound ids.
    expect(detectArchitecture({ id: 'xfbai/AMRBART-large-finetuned-AMR2.0' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'Wikidepia/IndoT5-base-paraphrase' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'LeoCordoba/beto2beto' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'mrm8488/bert-small2bert-small-finetuned-cnn_daily_mail-summarization' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'someone/gpt2medium' })).toBe('decoder-only');
  });

  it('falls back to the card: base model, fine-tuned-from, mentions, task tags', () => {
    expect(detectArchitecture({ id: 'me/my-model', card: '---\nbase_model: EleutherAI/pythia-160m\n---\n' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'me/my-model', card: trainerCard })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'me/my-model', card: 'A LLaMA model. We trained LLaMA on chats.' })).toBe('decoder-only');
    // "opt" in prose is a verb, not the OPT family.
    expect(detectArchitecture({ id: 'me/my-model', card: 'Users may opt out.' })).toBe('unknown');
    expect(detectArchitecture({ id: 'me/my-model', pipelineTag: 'text-generation' })).toBe('decoder-only');
    expect(detectArchitecture({ id: 'me/my-model', card: '---\npipeline_tag: summarization\n---\nA summarizer.' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'me/my-model' })).toBe('unknown');
    // A BERT that generates text is a warm-started encoder-decoder.
    expect(detectArchitecture({ id: 'Goud/AraBERT-summarization-goud' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'me/kcbert-chat', pipelineTag: 'text2text-generation' })).toBe('encoder-decoder');
    expect(detectArchitecture({ id: 'me/kcbert', pipelineTag: 'fill-mask' })).toBe('encoder-only');
  });
});

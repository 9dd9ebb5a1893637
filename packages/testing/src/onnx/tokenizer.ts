/**
 * A WordPiece `tokenizer.json` (Hugging Face tokenizers format) over a small word list, which the
 * real @huggingface/transformers tokenizer loads: lowercasing BERT normaliser, BERT
 * pre-tokeniser (whitespace and punctuation), optional template adding special tokens.
 */
export interface WordPieceTokenizerSpec {
  /** Special tokens first (their ids are 0..n-1, in this order), then the words. */
  specialTokens: string[];
  words: string[];
  /** Special tokens around one sequence, e.g. `['[CLS]', '$A', '[SEP]']`; none when empty. */
  template: string[];
  unkToken: string;
  tokenizerConfig: Record<string, unknown>;
}

export interface TokenizerFiles {
  'tokenizer.json': string;
  'tokenizer_config.json': string;
  /** token → id */
  vocab: Map<string, number>;
}

export function wordPieceTokenizerFiles(spec: WordPieceTokenizerSpec): TokenizerFiles {
  const vocab = new Map<string, number>();
  for (const token of [...spec.specialTokens, ...spec.words]) if (!vocab.has(token)) vocab.set(token, vocab.size);
  const idOf = (token: string): number => {
    const id = vocab.get(token);
    if (id === undefined) throw new Error(`token ${token} is not in the vocabulary`);
    return id;
  };
  const templateItems = spec.template.map((item) =>
    item === '$A' ? { Sequence: { id: 'A', type_id: 0 } } : { SpecialToken: { id: item, type_id: 0 } },
  );
  const specialInTemplate = spec.template.filter((item) => item !== '$A');
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: spec.specialTokens.map((content) => ({
      id: idOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor:
      spec.template.length === 0
        ? null
        : {
            type: 'TemplateProcessing',
            single: templateItems,
            pair: [...templateItems, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: Object.fromEntries(
              specialInTemplate.map((token) => [token, { id: token, ids: [idOf(token)], tokens: [token] }]),
            ),
          },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: spec.unkToken,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
  return {
    'tokenizer.json': JSON.stringify(tokenizer),
    'tokenizer_config.json': JSON.stringify(spec.tokenizerConfig),
    vocab,
  };
}

/** Lowercase words of a text, split like the BERT pre-tokeniser would (letters/digits vs punctuation). */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

/** Queries shared by the retrieval benchmarks (`retrieve.ts`, `vs-bm25s.ts`). */

export const instructionQueries = [
  'Translate English to German',
  'English-to-German translation',
  'Summarize news articles into a short summary',
  'Answer questions about a passage',
  'Given a Japanese instruction, write Python code',
  'Generate SQL from a natural language question',
  'Convert a meaning representation of a restaurant into a sentence',
  'Paraphrase the sentence',
  'Correct grammar mistakes in English text',
  'Generate a question from a paragraph and an answer',
  'Summarize a dialogue between two people',
  'Translate French to English',
  'Classify the sentiment of a movie review',
  'Write a headline for a news article',
  'Simplify a complex sentence',
  'Extract keywords from a scientific abstract',
  'Translate Spanish into Portuguese',
  'Detoxify an offensive comment',
  'Generate a product description from attributes',
  'Answer yes or no questions about a text',
];

// HyDE queries are whole hypothetical cards: longer, so they touch many more postings.
export const hydeQueries = [
  `# t5-base-finetuned-wmt-en-de\nThis model is a fine-tuned version of t5-base for English-to-German translation. It was trained on the WMT14 and WMT16 en-de news translation datasets and translates English sentences into German.\n- Task: translation (text2text-generation)\n- Languages: English, German\n- Datasets: wmt14, wmt16`,
  `# bart-large-news-summarizer\nA BART model fine-tuned for abstractive summarization of news articles. Given a long article it writes a short summary of two or three sentences. Trained on CNN/DailyMail and XSum.\n- Task: summarization\n- Language: English`,
  `# flan-t5-squad-qa\nFLAN-T5 fine-tuned on SQuAD v2 for extractive and generative question answering: given a passage and a question it answers with a short span. English only.\n- Task: question answering (text2text-generation)\n- Datasets: squad_v2`,
  `# codet5-ja-python\nCodeT5 fine-tuned to generate Python code from Japanese natural language instructions (mCoNaLa). The model reads an instruction in Japanese and writes a one-line Python snippet.\n- Task: code generation\n- Languages: Japanese, Python`,
  `# t5-small-e2e-nlg\nT5-small fine-tuned to convert meaning representations (slot-value pairs) into fluent English sentences, trained on the E2E NLG and ViGGO datasets for data-to-text generation.\n- Task: data-to-text (text2text-generation)`,
];

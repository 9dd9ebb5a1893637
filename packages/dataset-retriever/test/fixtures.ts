import type { DatasetFixture } from '@prompt2model/testing';

const squadRows = Array.from({ length: 260 }, (_, i) => ({
  id: `q${i}`,
  title: 'Topic',
  context: `Passage ${i}: the river number ${i} flows into lake ${i % 9}.`,
  question: `Where does river ${i} flow?`,
  answers: { text: [`lake ${i % 9}`], answer_start: [30] },
}));

export const fixtures: DatasetFixture[] = [
  {
    id: 'squad',
    description: 'Stanford Question Answering Dataset (SQuAD) is a reading comprehension dataset, consisting of questions posed by crowdworkers on a set of Wikipedia articles, where the answer to every question is a segment of text from the corresponding reading passage.',
    downloads: 90000,
    evaluationMetadata: [{ config: 'plain_text', task: 'question-answering', task_id: 'extractive_question_answering', splits: { train_split: 'train', eval_split: 'validation' }, col_mapping: { question: 'question', context: 'context', answers: { text: 'text', answer_start: 'answer_start' } } }],
    configs: [
      {
        name: 'plain_text',
        features: {
          id: { dtype: 'string', _type: 'Value' },
          title: { dtype: 'string', _type: 'Value' },
          context: { dtype: 'string', _type: 'Value' },
          question: { dtype: 'string', _type: 'Value' },
          answers: { feature: { text: { dtype: 'string', _type: 'Value' }, answer_start: { dtype: 'int32', _type: 'Value' } }, _type: 'Sequence' },
        },
        splits: { train: squadRows.slice(0, 200), validation: squadRows.slice(200) },
      },
    ],
  },
  {
    id: 'wmt/wmt16',
    description: 'Translation dataset based on the data from statmt.org: German-English news translation.',
    downloads: 4000,
    configs: [
      {
        name: 'de-en',
        features: { translation: { languages: ['de', 'en'], _type: 'Translation' } },
        splits: { train: Array.from({ length: 120 }, (_, i) => ({ translation: { de: `Satz Nummer ${i}.`, en: `Sentence number ${i}.` } })) },
      },
    ],
  },
  {
    id: 'imdb',
    description: 'Large Movie Review Dataset. A dataset for binary sentiment classification of movie reviews.',
    downloads: 50000,
    configs: [
      {
        name: 'plain_text',
        parquet: false,
        features: { text: { dtype: 'string', _type: 'Value' }, label: { names: ['neg', 'pos'], _type: 'ClassLabel' } },
        splits: { train: Array.from({ length: 230 }, (_, i) => ({ text: i === 5 ? '' : `Review ${i}: ${i % 2 ? 'great' : 'awful'} film`, label: i % 2 })) },
      },
    ],
  },
  {
    id: 'org/gated-notes',
    description: 'Clinical question answering over medical notes.',
    gated: 'manual',
    configs: [{ name: 'default', features: { question: { dtype: 'string', _type: 'Value' }, answer: { dtype: 'string', _type: 'Value' } }, splits: { train: [{ question: 'q', answer: 'a' }] } }],
  },
  {
    id: 'org/empty-answers',
    description: 'Questions without answers.',
    configs: [{ name: 'default', features: { question: { dtype: 'string', _type: 'Value' }, answer: { dtype: 'string', _type: 'Value' } }, splits: { train: [{ question: 'q1', answer: '' }, { question: 'q2', answer: '' }] } }],
  },
];

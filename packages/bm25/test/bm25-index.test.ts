import bm25 from 'wink-bm25-text-search';
import { describe, expect, it } from 'vitest';
import { Prompt2ModelError, ValidationError } from '@prompt2model/core';
import { Bm25Index, getTextPrep, registerTextPrep } from '../src/index.js';

const corpus: Array<[string, string]> = [
  ['t5-de', 'T5 fine-tuned to translate English to German on WMT16 news.'],
  ['bart-news', 'BART summarizes news articles into short summaries; trained on CNN/DailyMail.'],
  ['qa', 'Answers questions about a passage, fine-tuned on SQuAD question answering.'],
  ['code', 'Generates Python code from natural language instructions.'],
  ['fr', 'Translation model from English to French, trained on Europarl.'],
];

function build(docs: Array<[string, string]>, prep?: string): Bm25Index {
  const index = new Bm25Index(prep ? { prep } : {});
  for (const [id, text] of docs) index.add(id, text);
  return index;
}

describe('Bm25Index', () => {
  it('ranks the matching document first', () => {
    const index = build(corpus);
    expect(index.search('translate English to German')[0]!.id).toBe('t5-de');
    expect(index.search('news summarization')[0]!.id).toBe('bart-news');
    expect(index.search('question answering')[0]!.id).toBe('qa');
  });

  it('scores exactly as raw wink-bm25-text-search with the same prep', () => {
    const index = build(corpus);
    const raw = bm25();
    raw.defineConfig({ fldWeights: { text: 1 } });
    raw.definePrepTasks(getTextPrep('card-v1').tasks());
    for (const [id, text] of corpus) raw.addDoc({ text }, id);
    raw.consolidate();
    for (const query of ['translate English to German', 'news', 'English translation model trained', 'nothing-matches-this']) {
      const expected = raw.search(query, 100);
      const actual = index.search(query);
      expect(actual.map((hit) => hit.id).sort()).toEqual(expected.map(([id]) => id).sort());
      for (const [id, score] of expected) {
        expect(actual.find((hit) => hit.id === id)!.score).toBeCloseTo(score, 4);
      }
    }
  });

  it('works with fewer than three documents, where wink alone throws', () => {
    const raw = bm25();
    raw.defineConfig({ fldWeights: { text: 1 } });
    raw.addDoc({ text: 'one' }, 'a');
    expect(() => raw.consolidate()).toThrow(/too small/);

    expect(build([]).search('anything')).toEqual([]);
    const one = build([['only', 'German translation model']]);
    expect(one.search('german').map((hit) => hit.id)).toEqual(['only']);
    expect(one.size).toBe(1);
    const two = build(corpus.slice(0, 2));
    expect(two.search('summaries').map((hit) => hit.id)).toEqual(['bart-news']);
    // Padding never leaks out, even for a query of nothing but unknown words.
    expect(two.search('zzz qqq')).toEqual([]);
  });

  it('persists to JSON and re-attaches the prep pipeline on load', () => {
    const index = build(corpus);
    const restored = Bm25Index.fromJSON(JSON.parse(JSON.stringify(index.toJSON())));
    // "translating" only matches "translate" through the stemmer: the prep is back.
    for (const query of ['translating into German', 'summarizing news', 'answered questions']) {
      expect(restored.search(query)).toEqual(index.search(query));
      expect(restored.search(query).length).toBeGreaterThan(0);
    }
    expect(restored.prep).toBe('card-v1');
    expect(restored.size).toBe(corpus.length);
  });

  it('restores a custom registered pipeline by name, and names a missing one', () => {
    registerTextPrep({ name: 'test-letters', tasks: () => [(text: string) => text.toLowerCase().split(/[^a-z]+/).filter(Boolean)] });
    const index = build(corpus, 'test-letters');
    const json = index.toJSON();
    expect(Bm25Index.fromJSON(json).search('german')[0]!.id).toBe('t5-de');
    const missing = catchError(() => Bm25Index.fromJSON({ ...json, prep: 'never-registered' }));
    expect(missing.message).toMatch(/never-registered/);
    expect(missing.hint).toMatch(/registerTextPrep/);
  });

  it('rejects damaged postings and misuse with errors that say what to do', () => {
    const json = build(corpus).toJSON();
    expect(() => Bm25Index.fromJSON({ ...json, postingWeights: json.postingWeights.slice(0, 8) })).toThrow(ValidationError);
    expect(() => Bm25Index.fromJSON({ ...json, ids: ['x'] })).toThrow(ValidationError);
    expect(() => Bm25Index.fromJSON({ nope: true })).toThrow(ValidationError);

    const index = build(corpus);
    expect(catchError(() => index.add('t5-de', 'again')).hint).toMatch(/unique/);
    index.consolidate();
    expect(catchError(() => index.add('late', 'text')).hint).toMatch(/before the first search/);
  });

  it('counts repeated query terms, as wink does', () => {
    const index = build(corpus);
    const once = index.search('german')[0]!.score;
    const twice = index.search('german german')[0]!.score;
    expect(twice).toBeCloseTo(once * 2, 6);
  });
});

function catchError(fn: () => unknown): Prompt2ModelError {
  try {
    fn();
  } catch (error) {
    expect(Prompt2ModelError.isInstance(error)).toBe(true);
    return error as Prompt2ModelError;
  }
  throw new Error('expected an error');
}

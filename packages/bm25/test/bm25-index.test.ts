import bm25 from 'wink-bm25-text-search';
import { describe, expect, it } from 'vitest';
import { Prompt2ModelError, ValidationError } from '@prompt2model/core/internal';
import { BinaryFileReader, BinaryFileWriter, Bm25Index, getTextPrep, registerTextPrep } from '../src/index.js';

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

  it('keeps every weight of the wink-built index it replaced, bit for bit (stored as float32)', () => {
    // The index used to copy wink's consolidated weights into float32 postings; its own weights
    // must be those, so saved indexes and snapshots of scores stay valid.
    const docs: Array<[string, string]> = [...corpus, ['dup', 'German German German news news translation, the 12 models of 2023 and café'], ['empty', '']];
    const raw = bm25();
    raw.defineConfig({ fldWeights: { text: 1 }, bm25Params: { k1: 1.2, b: 0.75, k: 1 } });
    raw.definePrepTasks(getTextPrep('card-v1').tasks());
    for (const [id, text] of docs) raw.addDoc({ text }, id);
    raw.consolidate();
    const winkTokens = raw.getTokens();
    const winkDocs = raw.getDocs();
    const json = build(docs).toJSON();
    const decode = (base64: string) => {
      const bytes = Buffer.from(base64, 'base64');
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    };
    const offsets = new Int32Array(decode(json.offsets));
    const postings = new Int32Array(decode(json.postingDocuments));
    const weights = new Float32Array(decode(json.postingWeights));
    let compared = 0;
    json.terms.forEach((token, term) => {
      for (let slot = offsets[term]!; slot < offsets[term + 1]!; slot++) {
        const id = json.ids[postings[slot]!]!;
        expect(weights[slot]).toBe(Math.fround(winkDocs[id]!.freq[winkTokens[token]!]!));
        compared++;
      }
    });
    expect(compared).toBe(Object.values(winkDocs).reduce((sum, doc) => sum + Object.keys(doc.freq).length, 0));
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

  it('saves into a binary index file and loads it back as views, scores unchanged', () => {
    const index = build(corpus);
    const writer = new BinaryFileWriter('TESTBM25', 1).text('note', 'ünïcode ✓');
    index.writeTo(writer, 'bm25');
    const bytes = writer.toBytes();
    // Not 8-byte aligned on purpose: the reader copies when a view could not be made.
    const shifted = new Uint8Array(bytes.byteLength + 1).subarray(1);
    shifted.set(bytes);
    const reader = new BinaryFileReader(shifted, 'TESTBM25', 'test index', 'rebuild it');
    expect(reader.text('note')).toBe('ünïcode ✓');
    const restored = Bm25Index.readFrom(reader, 'bm25');
    for (const query of ['translating into German', 'summarizing news', 'answered questions', 'nothing']) {
      expect(restored.search(query)).toEqual(index.search(query));
    }
    expect(restored.size).toBe(corpus.length);
    expect(restored.idAt(4)).toBe('fr');

    expect(BinaryFileReader.hasMagic(bytes, 'OTHERFMT')).toBe(false);
    const wrongMagic = catchError(() => new BinaryFileReader(bytes, 'OTHERFMT', 'test index', 'rebuild it'));
    expect(wrongMagic).toBeInstanceOf(ValidationError);
    expect(wrongMagic.hint).toBe('rebuild it');
    const truncated = catchError(() => Bm25Index.readFrom(new BinaryFileReader(bytes.subarray(0, bytes.byteLength - 64), 'TESTBM25', 't', 'rebuild it'), 'bm25'));
    expect(truncated.message).toMatch(/truncated|outside the file/);
    expect(catchError(() => Bm25Index.readFrom(reader, 'other')).message).toMatch(/other\.params.*missing/s);
  });

  it('finds every term through the saved vocabulary table, and rebuilds it for files saved without one', () => {
    // Many terms (hash collisions), non-Latin ones and prefixes of each other.
    const words = [...Array.from({ length: 300 }, (_, i) => `term${i.toString(36)}`), 'café', 'naïve', '日本語', 'テキスト', 'ab', 'abc', 'abcd'];
    const docs: Array<[string, string]> = Array.from({ length: 60 }, (_, d) => [`doc-${d}`, words.filter((_, w) => (w * 7 + d) % 13 === 0).join(' ')]);
    registerTextPrep({ name: 'test-words', tasks: () => [(text: string) => text.split(/\s+/).filter(Boolean)] });
    const index = build(docs, 'test-words');
    const save = (drop?: string) => {
      const writer = new BinaryFileWriter('TESTBM25', 1);
      const int32 = writer.int32.bind(writer);
      // A file from before the table was saved: the same sections less `bm25.termSlots`.
      writer.int32 = (name: string, values: Int32Array) => (name === drop ? writer : int32(name, values));
      index.writeTo(writer, 'bm25');
      return new BinaryFileReader(writer.toBytes(), 'TESTBM25', 'test index', 'rebuild it');
    };
    const saved = save();
    expect(saved.has('bm25.termSlots')).toBe(true);
    const withTable = Bm25Index.readFrom(saved, 'bm25');
    const older = save('bm25.termSlots');
    expect(older.has('bm25.termSlots')).toBe(false);
    const rebuilt = Bm25Index.readFrom(older, 'bm25');
    for (const word of [...words, 'unknown', 'term', 'abcde', '']) {
      expect(withTable.search(word)).toEqual(index.search(word));
      expect(rebuilt.search(word)).toEqual(index.search(word));
    }
    // Every word is in some document, and found there (the table itself is what all three use).
    for (const word of words) expect(withTable.search(word).map((hit) => hit.id).sort()).toEqual(docs.filter(([, text]) => text.split(' ').includes(word)).map(([id]) => id).sort());
    // Ids are made strings on first use; they are the same.
    expect(Array.from({ length: withTable.size }, (_, i) => withTable.idAt(i))).toEqual(docs.map(([id]) => id));

    // A damaged table (a slot naming a term that does not exist) is refused with the hint.
    const damagedWriter = new BinaryFileWriter('TESTBM25', 1);
    const int32 = damagedWriter.int32.bind(damagedWriter);
    damagedWriter.int32 = (name: string, values: Int32Array) => int32(name, name === 'bm25.termSlots' ? values.map((term) => (term === 0 ? 99_999 : term)) : values);
    index.writeTo(damagedWriter, 'bm25');
    const damaged = catchError(() => Bm25Index.readFrom(new BinaryFileReader(damagedWriter.toBytes(), 'TESTBM25', 'test index', 'rebuild it'), 'bm25'));
    expect(damaged).toBeInstanceOf(ValidationError);
    expect(damaged.message).toMatch(/term table/);
    expect(damaged.hint).toBe('rebuild it');
    // A term listed twice (JSON) is damage too, not a silent shadow.
    const json = index.toJSON();
    expect(catchError(() => Bm25Index.fromJSON({ ...json, terms: json.terms.map((term, i) => (i === 1 ? json.terms[0]! : term)) })).message).toMatch(/twice/);
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

import { describe, expect, it } from 'vitest';
import { CardPreparer } from '../src/card-preparer.js';
import { prepareCards } from '../src/card-prep.js';
import { ModelIndex } from '../src/internal.js';
import { readSampleCards } from './fixtures/make-score-snapshot.js';

describe('preparing cards on a worker thread', () => {
  it('gives the same prepared cards, chunk by chunk, as this thread', async () => {
    const cards = readSampleCards().map((record) => ({ id: record.id, card: record.card ?? '' }));
    const preparer = new CardPreparer(true);
    try {
      const chunks = [cards.slice(0, 100), cards.slice(100, 101), cards.slice(101)];
      const prepared = await Promise.all(chunks.map((chunk) => preparer.prepare(chunk)));
      // The worker answered (a worker that could not start falls back to this thread silently).
      expect(preparer.answeredByWorker).toBe(3);
      expect(prepared).toEqual(chunks.map((chunk) => prepareCards(chunk)));
    } finally {
      await preparer.close();
    }
  });

  it('builds a byte-identical index with and without the worker', async () => {
    const cards = readSampleCards();
    // More cards than one chunk, with repeated ids (the first card of an id is kept).
    const input = [...cards, ...cards.slice(0, 40)];
    const [inThread, withWorker] = await Promise.all([ModelIndex.fromCards(input, { workers: false }), ModelIndex.fromCards(input, { workers: true })]);
    expect(withWorker.size).toBe(cards.length);
    expect({ ...withWorker.toJSON(), createdAt: '' }).toEqual({ ...inThread.toJSON(), createdAt: '' });
  });

  it('prepares on this thread when the worker fails, with the error of the card that caused it', async () => {
    const preparer = new CardPreparer(true);
    try {
      const bad = preparer.prepare([{ id: 'a/b', card: null as unknown as string }]);
      await expect(bad).rejects.toThrow(TypeError);
      expect(await preparer.prepare([{ id: 'org/t5-small', card: '# Summarise' }])).toEqual(prepareCards([{ id: 'org/t5-small', card: '# Summarise' }]));
      expect(preparer.answeredByWorker).toBe(0);
    } finally {
      await preparer.close();
    }
  });
});

// A worker thread that prepares chunks of cards (`CardPreparer`): messages `{ seq, cards }` in,
// `{ seq, prepared }` out, in the order they came. A failure is reported, and the caller
// prepares the chunk itself (where the error surfaces with its stack).
import { parentPort } from 'node:worker_threads';
import { prepareCards, type CardToPrepare } from './card-prep.js';

parentPort!.on('message', ({ seq, cards }: { seq: number; cards: CardToPrepare[] }) => {
  try {
    parentPort!.postMessage({ seq, prepared: prepareCards(cards) });
  } catch {
    parentPort!.postMessage({ seq, failed: true });
  }
});

/**
 * Stop strings, applied by the server as well as the executor (an executor applies the
 * `GenerationOptions` it supports; this makes `stop` exact with any of them): the answer ends
 * before the first stop string, which is left out.
 */

/** `text` cut before the first stop string, and whether one was found. */
export function cutAtStop(text: string, stop: readonly string[] | undefined): { text: string; stopped: boolean } {
  if (!stop || stop.length === 0) return { text, stopped: false };
  let end = -1;
  for (const marker of stop) {
    const at = text.indexOf(marker);
    if (at >= 0 && (end < 0 || at < end)) end = at;
  }
  return end < 0 ? { text, stopped: false } : { text: text.slice(0, end), stopped: true };
}

/**
 * Streamed text with stop strings cut out: pieces are passed on once no stop string can start in
 * them, so a stop string split across two pieces is never sent in part. After a stop string,
 * nothing more is sent.
 */
export class StopStringFilter {
  private held = '';
  private stopped = false;

  constructor(
    private readonly stop: readonly string[] | undefined,
    private readonly send: (text: string) => void,
  ) {}

  get hasStopped(): boolean {
    return this.stopped;
  }

  push(piece: string): void {
    if (this.stopped || piece === '') return;
    if (!this.stop || this.stop.length === 0) {
      this.send(piece);
      return;
    }
    const text = this.held + piece;
    const cut = cutAtStop(text, this.stop);
    if (cut.stopped) {
      this.stopped = true;
      this.held = '';
      if (cut.text) this.send(cut.text);
      return;
    }
    // Hold back the longest tail that could be the start of a stop string.
    let keep = 0;
    for (const marker of this.stop) {
      for (let length = Math.min(marker.length - 1, text.length); length > keep; length--) {
        if (marker.startsWith(text.slice(text.length - length))) {
          keep = length;
          break;
        }
      }
    }
    const ready = text.slice(0, text.length - keep);
    this.held = text.slice(text.length - keep);
    if (ready) this.send(ready);
  }

  /** Sends what was held back (the answer ended without a stop string). */
  flush(): void {
    if (!this.stopped && this.held) this.send(this.held);
    this.held = '';
  }
}

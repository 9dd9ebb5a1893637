import { open } from 'node:fs/promises';

/**
 * Cuts a JSON Lines file after its first `rows` lines (blank lines count as lines they are, rows are
 * non-blank ones). Reads in chunks, so the file is never held in memory whole.
 */
export async function truncateJsonlRows(path: string, rows: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const buffer = Buffer.alloc(1 << 20);
    let position = 0;
    let seen = 0;
    let lineHasContent = false;
    for (;;) {
      if (seen >= rows) break;
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      let i = 0;
      for (; i < bytesRead; i++) {
        const byte = buffer[i]!;
        if (byte === 0x0a) {
          if (lineHasContent) seen++;
          lineHasContent = false;
          if (seen >= rows) {
            i++;
            break;
          }
        } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) lineHasContent = true;
      }
      position += i;
    }
    await handle.truncate(position);
  } finally {
    await handle.close();
  }
}

import { createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { ValidationError } from './errors/validation-error.js';

/**
 * Streams the rows of a JSON Lines file. Blank lines are skipped; a malformed last line (a crash
 * mid-append) is skipped when `tolerateTruncatedTail` is set, and any other bad line is an error
 * naming the file and line.
 */
export async function* readJsonl<T = unknown>(
  path: string,
  options: { schema?: z.ZodType<T>; tolerateTruncatedTail?: boolean } = {},
): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  let pendingError: ValidationError | undefined;
  for await (const line of lines) {
    lineNumber++;
    if (pendingError) throw pendingError;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      pendingError = new ValidationError({
        subject: `${path} line ${lineNumber}`,
        issues: [{ path: '', message: `not valid JSON (${(error as Error).message})` }],
        hint: 'Each line must be one JSON object, e.g. {"input": "...", "output": "..."}.',
      });
      if (options.tolerateTruncatedTail) continue;
      throw pendingError;
    }
    if (options.schema) {
      const parsed = options.schema.safeParse(value);
      if (!parsed.success) throw ValidationError.fromZod(`${path} line ${lineNumber}`, parsed.error);
      yield parsed.data;
    } else {
      yield value as T;
    }
  }
}

export async function readJsonlAll<T = unknown>(
  path: string,
  options: { schema?: z.ZodType<T>; tolerateTruncatedTail?: boolean } = {},
): Promise<T[]> {
  const rows: T[] = [];
  for await (const row of readJsonl(path, options)) rows.push(row);
  return rows;
}

/**
 * Rows as JSON Lines bytes, each line ended by a newline. Each line is encoded straight into one
 * buffer: joining the lines into a string first would copy every byte twice more (the join is
 * flattened, then encoded by the write).
 */
function jsonLines(rows: readonly unknown[]): Buffer {
  const lines = new Array<string>(rows.length);
  let length = 0;
  for (let i = 0; i < rows.length; i++) {
    lines[i] = JSON.stringify(rows[i]);
    length += lines[i]!.length + 1;
  }
  // UTF-8 takes at least one byte per UTF-16 unit: the buffer grows only for non-ASCII text.
  let buffer = Buffer.allocUnsafe(length);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const room = buffer.length - at;
    if (room < line.length * 3 + 1) {
      const needed = Buffer.byteLength(line) + 1;
      if (room < needed) {
        const wider = Buffer.allocUnsafe(Math.max(buffer.length * 2, at + needed));
        buffer.copy(wider, 0, 0, at);
        buffer = wider;
      }
    }
    at += buffer.write(line, at);
    buffer[at++] = 10;
  }
  return buffer.subarray(0, at);
}

/**
 * Appends rows to a JSON Lines file, one `write` per row so a crash leaves at most one partial
 * last line (which `readJsonl(..., { tolerateTruncatedTail: true })` skips). Call `sync()` at
 * checkpoints to make rows durable.
 */
export class JsonlWriter {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string, options: { truncate?: boolean } = {}): Promise<JsonlWriter> {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(path, options.truncate ? 'w' : 'a');
    return new JsonlWriter(handle, path);
  }

  async write(row: unknown): Promise<void> {
    await this.handle.write(`${JSON.stringify(row)}\n`);
  }

  /** Appends many rows in one write (a file written beside its target and renamed when complete needs no per-row writes). */
  async writeAll(rows: readonly unknown[]): Promise<void> {
    if (rows.length === 0) return;
    await this.handle.write(jsonLines(rows));
  }

  /** Appends text that is already JSON Lines (as a string or UTF-8 bytes). */
  async writeText(text: string | Uint8Array): Promise<void> {
    if (typeof text === 'string') await this.handle.write(text);
    else await this.handle.write(text);
  }

  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * A JSON Lines file written beside its target and renamed into place by `commit()`: readers, a
 * kill -9 or a Ctrl-C see the old file or the whole new one, never part of it. `discard()` (or a
 * failed commit) removes the temporary file.
 */
export class AtomicJsonlWriter {
  private constructor(
    private readonly writer: JsonlWriter,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<AtomicJsonlWriter> {
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    return new AtomicJsonlWriter(await JsonlWriter.open(tmp, { truncate: true }), path);
  }

  /** The temporary file being written. */
  get temporaryPath(): string {
    return this.writer.path;
  }

  /**
   * Appends rows. They are serialized at once (the caller may reuse them), and the disk write runs
   * behind the caller's next batch: at most one write is in flight, so a producer and the disk
   * overlap while memory holds two batches at most. A failed write is thrown by the next call.
   */
  async writeAll(rows: readonly unknown[]): Promise<void> {
    if (rows.length === 0) return;
    const text = jsonLines(rows);
    await this.inFlight;
    const write = this.writer.writeText(text);
    // Handled here so a failure waits for the next call instead of being an unhandled rejection.
    write.catch(() => undefined);
    this.inFlight = write;
  }

  private inFlight: Promise<void> | undefined;

  /** Flushes to disk and renames over the target. */
  async commit(): Promise<void> {
    try {
      await this.inFlight;
      await this.writer.sync();
      await this.writer.close();
      await rename(this.writer.path, this.path);
    } catch (error) {
      await rm(this.writer.path, { force: true });
      throw error;
    }
  }

  async discard(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    await this.writer.close().catch(() => undefined);
    await rm(this.writer.path, { force: true });
  }
}

/**
 * Repairs a JSON Lines file left by a crash: drops a trailing partial line so appends start clean.
 * Returns the number of complete rows.
 */
export async function repairJsonlTail(path: string): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    const content = await handle.readFile({ encoding: 'utf8' });
    let end = content.length;
    if (!content.endsWith('\n')) end = content.lastIndexOf('\n') + 1;
    let rows = 0;
    let keep = 0;
    let start = 0;
    while (start < end) {
      const nl = content.indexOf('\n', start);
      const line = content.slice(start, nl);
      if (line.trim() !== '') {
        try {
          JSON.parse(line);
          rows++;
          keep = nl + 1;
        } catch {
          break;
        }
      } else keep = nl + 1;
      start = nl + 1;
    }
    if (keep < content.length) await handle.truncate(Buffer.byteLength(content.slice(0, keep), 'utf8'));
    return rows;
  } finally {
    await handle.close();
  }
}

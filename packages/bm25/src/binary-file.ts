import { InvalidArgumentError } from '@prompt2model/core/internal';
import { ValidationError } from '@prompt2model/core/internal';

/**
 * A small binary container for index files: named sections of typed arrays, string lists and
 * scalars, each 8-byte aligned, so that loading is one file read plus typed-array views on it (no
 * JSON to parse, no base64 to decode, nothing re-tokenised).
 *
 * Layout (little-endian): 8-byte magic, u32 format version, u32 section count, then one directory
 * record per section (u8 name length, name in ASCII, u8 kind, u32 offset, u32 byte length), then the
 * sections. A string list is two sections: its text (UTF-8) and the UTF-16 end offset of each string.
 */
export const BINARY_MAGIC_LENGTH = 8;

const kinds = { uint8: 1, int32: 2, float32: 3, float64: 4, text: 5 } as const;
type Kind = keyof typeof kinds;
type Typed = Uint8Array | Int32Array | Float32Array | Float64Array;

interface Section {
  name: string;
  kind: Kind;
  bytes: Uint8Array;
}

export class BinaryFileWriter {
  private readonly sections: Section[] = [];

  constructor(
    private readonly magic: string,
    private readonly version: number,
  ) {
    if (Buffer.byteLength(magic) !== BINARY_MAGIC_LENGTH) throw new InvalidArgumentError({ argument: 'magic', value: magic, expected: `${BINARY_MAGIC_LENGTH} bytes long` });
  }

  uint8(name: string, values: Uint8Array): this {
    return this.add(name, 'uint8', values);
  }

  int32(name: string, values: Int32Array): this {
    return this.add(name, 'int32', values);
  }

  float32(name: string, values: Float32Array): this {
    return this.add(name, 'float32', values);
  }

  float64(name: string, values: Float64Array): this {
    return this.add(name, 'float64', values);
  }

  text(name: string, value: string): this {
    this.sections.push({ name, kind: 'text', bytes: Buffer.from(value, 'utf8') });
    return this;
  }

  /** A list of strings (any characters, newlines included). */
  strings(name: string, values: readonly string[]): this {
    const ends = new Int32Array(values.length);
    let end = 0;
    values.forEach((value, i) => {
      end += value.length;
      ends[i] = end;
    });
    return this.packedStrings(name, values.join(''), ends);
  }

  /** A list of strings already end to end: `ends[i]` is where string i ends in `text` (UTF-16 offsets). */
  packedStrings(name: string, text: string, ends: Int32Array): this {
    return this.text(`${name}.text`, text).int32(`${name}.ends`, ends);
  }

  private add(name: string, kind: Kind, values: Typed): this {
    this.sections.push({ name, kind, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return this;
  }

  toBytes(): Uint8Array {
    const names = this.sections.map((section) => Buffer.from(section.name, 'ascii'));
    const directoryBytes = names.reduce((sum, name) => sum + 1 + name.length + 1 + 4 + 4, 0);
    let offset = align(BINARY_MAGIC_LENGTH + 8 + directoryBytes);
    const offsets = this.sections.map((section) => {
      const at = offset;
      offset = align(offset + section.bytes.byteLength);
      return at;
    });
    if (offset > 0xffff_ffff) throw new InvalidArgumentError({ argument: 'index', value: offset, expected: 'an index file under 4 GB' });
    const out = Buffer.alloc(offset);
    out.write(this.magic, 0, 'ascii');
    out.writeUInt32LE(this.version, BINARY_MAGIC_LENGTH);
    out.writeUInt32LE(this.sections.length, BINARY_MAGIC_LENGTH + 4);
    let cursor = BINARY_MAGIC_LENGTH + 8;
    this.sections.forEach((section, i) => {
      const name = names[i]!;
      out.writeUInt8(name.length, cursor);
      name.copy(out, cursor + 1);
      cursor += 1 + name.length;
      out.writeUInt8(kinds[section.kind], cursor);
      out.writeUInt32LE(offsets[i]!, cursor + 1);
      out.writeUInt32LE(section.bytes.byteLength, cursor + 5);
      cursor += 9;
      out.set(section.bytes, offsets[i]!);
    });
    return out;
  }
}

/** Reads a file written by `BinaryFileWriter`; every malformed part is a ValidationError with `hint`. */
export class BinaryFileReader {
  readonly version: number;
  private readonly buffer: Buffer;
  private readonly directory = new Map<string, { kind: number; offset: number; length: number }>();

  /** True when `bytes` starts with `magic` (so callers can tell this format from an older one). */
  static hasMagic(bytes: Uint8Array, magic: string): boolean {
    return bytes.byteLength >= BINARY_MAGIC_LENGTH && Buffer.from(bytes.buffer, bytes.byteOffset, BINARY_MAGIC_LENGTH).toString('latin1') === magic;
  }

  constructor(
    bytes: Uint8Array,
    magic: string,
    private readonly subject: string,
    private readonly hint: string,
  ) {
    if (!BinaryFileReader.hasMagic(bytes, magic)) this.fail('', `does not start with the ${JSON.stringify(magic)} signature`);
    // Typed-array views need the file's start 8-byte aligned; a pooled Buffer may not be.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
    this.buffer = Buffer.from(aligned.buffer, aligned.byteOffset, aligned.byteLength);
    if (this.buffer.byteLength < BINARY_MAGIC_LENGTH + 8) this.fail('', 'is truncated');
    this.version = this.buffer.readUInt32LE(BINARY_MAGIC_LENGTH);
    const count = this.buffer.readUInt32LE(BINARY_MAGIC_LENGTH + 4);
    let cursor = BINARY_MAGIC_LENGTH + 8;
    for (let i = 0; i < count; i++) {
      if (cursor + 1 > this.buffer.byteLength) this.fail('', 'is truncated (section directory)');
      const nameLength = this.buffer.readUInt8(cursor);
      if (cursor + 1 + nameLength + 9 > this.buffer.byteLength) this.fail('', 'is truncated (section directory)');
      const name = this.buffer.toString('ascii', cursor + 1, cursor + 1 + nameLength);
      cursor += 1 + nameLength;
      const kind = this.buffer.readUInt8(cursor);
      const offset = this.buffer.readUInt32LE(cursor + 1);
      const length = this.buffer.readUInt32LE(cursor + 5);
      cursor += 9;
      if (offset % 8 !== 0 || offset + length > this.buffer.byteLength) this.fail(name, 'lies outside the file (truncated or damaged)');
      this.directory.set(name, { kind, offset, length });
    }
  }

  has(name: string): boolean {
    return this.directory.has(name);
  }

  uint8(name: string): Uint8Array {
    const { offset, length } = this.section(name, 'uint8', 1);
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + offset, length);
  }

  int32(name: string): Int32Array {
    const { offset, length } = this.section(name, 'int32', 4);
    return new Int32Array(this.buffer.buffer, this.buffer.byteOffset + offset, length / 4);
  }

  float32(name: string): Float32Array {
    const { offset, length } = this.section(name, 'float32', 4);
    return new Float32Array(this.buffer.buffer, this.buffer.byteOffset + offset, length / 4);
  }

  float64(name: string): Float64Array {
    const { offset, length } = this.section(name, 'float64', 8);
    return new Float64Array(this.buffer.buffer, this.buffer.byteOffset + offset, length / 8);
  }

  text(name: string): string {
    const { offset, length } = this.section(name, 'text', 1);
    return this.buffer.toString('utf8', offset, offset + length);
  }

  strings(name: string): string[] {
    return unpackStrings(this.packedStrings(name));
  }

  /** A string list as written (its text and each string's end offset), for callers that index it in place. */
  packedStrings(name: string): PackedStrings {
    const text = this.text(`${name}.text`);
    const ends = this.int32(`${name}.ends`);
    for (let i = 0, start = 0; i < ends.length; i++) {
      const end = ends[i]!;
      if (end < start || end > text.length) this.fail(name, 'has string offsets out of order');
      start = end;
    }
    return { text, ends };
  }

  /** Throws the reader's ValidationError (with the rebuild hint) about one section. */
  fail(path: string, message: string): never {
    throw new ValidationError({ subject: this.subject, issues: [{ path, message }], hint: this.hint });
  }

  private section(name: string, kind: Kind, unit: number): { offset: number; length: number } {
    const entry = this.directory.get(name);
    if (!entry) this.fail(name, 'is missing');
    if (entry.kind !== kinds[kind]) this.fail(name, `is not a ${kind} section`);
    if (entry.length % unit !== 0) this.fail(name, 'has a partial element');
    return entry;
  }
}

/** A list of strings end to end: `ends[i]` is where string i ends in `text` (UTF-16 offsets, ascending). */
export interface PackedStrings {
  text: string;
  ends: Int32Array;
}

export function unpackStrings({ text, ends }: PackedStrings): string[] {
  const values: string[] = new Array(ends.length);
  for (let i = 0, start = 0; i < ends.length; i++) {
    values[i] = text.slice(start, ends[i]!);
    start = ends[i]!;
  }
  return values;
}

function align(offset: number): number {
  return Math.ceil(offset / 8) * 8;
}

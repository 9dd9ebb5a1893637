import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { Prompt2ModelError } from '@prompt2model/core/internal';
import type { PlannedUpload } from './model-upload-plan.js';

/** JSON files up to this size are also parsed, so a secret written with JSON escapes is found too. */
const PARSED_JSON_LIMIT = 64_000_000;

/**
 * Refuses (before anything reaches the Hub) when a file that would be uploaded holds the value of a
 * secret setting: every file, whatever its size, is streamed and searched byte for byte (a window
 * keeps a secret that straddles two chunks), JSON files are also searched after decoding their
 * escapes, and a safetensors file's header metadata is decoded and searched.
 */
export async function assertNoSecretsInUploads(files: readonly PlannedUpload[], secrets: readonly string[]): Promise<void> {
  const needles = secrets.filter((secret) => secret.length >= 8);
  if (needles.length === 0) return;
  for (const upload of files) {
    const found = (await rawBytesHold(upload.file, needles)) || (await decodedTextHolds(upload, needles));
    if (found) {
      throw new Prompt2ModelError({
        message: `${upload.file} contains the value of a secret setting (an API key or token); nothing was uploaded.`,
        hint: `Remove the key from ${upload.path}, then push again.`,
        exitCategory: 'configuration',
      });
    }
  }
}

async function rawBytesHold(path: string, needles: readonly string[]): Promise<boolean> {
  const buffers = needles.map((needle) => Buffer.from(needle, 'utf8'));
  const overlap = Math.max(...buffers.map((buffer) => buffer.length)) - 1;
  let tail = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const window = Buffer.concat([tail, chunk as Buffer]);
    if (buffers.some((buffer) => window.includes(buffer))) return true;
    tail = window.subarray(Math.max(0, window.length - overlap));
  }
  return false;
}

async function decodedTextHolds(upload: PlannedUpload, needles: readonly string[]): Promise<boolean> {
  let text: string | undefined;
  if (upload.path.endsWith('.safetensors')) text = await safetensorsHeader(upload.file);
  else if (upload.path.endsWith('.json') && upload.bytes <= PARSED_JSON_LIMIT) text = await readFile(upload.file, 'utf8');
  if (text === undefined) return false;
  let decoded: string;
  try {
    // Every string (keys and values) unescaped: a key written as \u0073k-... is still found.
    decoded = collectStrings(JSON.parse(text)).join('\n');
  } catch {
    return false;
  }
  return needles.some((needle) => decoded.includes(needle));
}

function collectStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      collectStrings(item, out);
    }
  }
  return out;
}

/** The JSON header of a safetensors file (an 8-byte little-endian length, then the header). */
async function safetensorsHeader(path: string): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(8);
    const { bytesRead } = await handle.read(prefix, 0, 8, 0);
    if (bytesRead < 8) return undefined;
    const length = Number(prefix.readBigUInt64LE(0));
    if (length <= 0 || length > 100_000_000) return undefined;
    const header = Buffer.alloc(length);
    await handle.read(header, 0, length, 8);
    return header.toString('utf8');
  } finally {
    await handle.close();
  }
}

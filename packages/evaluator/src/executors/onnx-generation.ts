import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ONNX_DTYPE_SUFFIX, Prompt2ModelError, seededRandom, throwIfAborted } from '@prompt2model/core/internal';
import type { OnnxSessionSet, OrtModule, OrtSession, OrtTensor, TransformersTokenizer } from '../transformers-runtime.js';

/**
 * Greedy and sampled generation on onnxruntime-node directly, over the ONNX layout transformers.js
 * loads (`encoder_model.onnx` + `decoder_model_merged.onnx`, or `model.onnx`), with or without a
 * key/value cache. transformers.js tokenizes (and opens the sessions of a Hub model); the loop is here
 * because its `generate` cannot report token probabilities, cannot be seeded, has no stop strings,
 * and adds work per step (tensor wrappers, a logits-processor chain, cache bookkeeping). Each
 * step's `present.*` outputs go back as the next step's `past_key_values.*`. onnxruntime-node copies
 * every fetched output into JavaScript (it has no io binding on CPU), so the loop fetches only
 * what it uses and drops finished rows from the batch.
 */

export type GenerationTask = 'text2text-generation' | 'text-generation';

/** What one generation call does (an executor call's `GenerationOptions`, resolved). */
export interface GenerationSettings {
  maxNewTokens: number;
  /** 0: greedy (the first most likely token). */
  temperature: number;
  /** Nucleus mass, in (0, 1]. */
  topP: number;
  /** Each row samples from its own generator seeded with this, so equal inputs give equal answers in any batch. */
  seed: number | undefined;
  stop: string[];
  /** Receives each new piece of row `row`'s answer text as it is generated. */
  onText?: (row: number, text: string) => void;
  signal?: AbortSignal;
}

export interface GeneratedRow {
  /** The answer text, trimmed, cut before a stop string. */
  output: string;
  promptTokens: number;
  /** Tokens generated, end token excluded. */
  outputTokens: number;
  /** exp of the mean log-probability of the tokens chosen, the end token included (1 when none was). */
  confidence: number;
  finishReason: 'stop' | 'length';
}

/**
 * Default threads per operator: half the machine's cores, 1 to 4. A student's operators are small,
 * so threads past that add more hand-over than they save, and spinning pool threads take the cores
 * the event loop and the rest of the app need (on a 2-core machine 2 threads were 2.7× slower than 1:
 * docs/benchmarks.md).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

/**
 * onnxruntime session options: `threads` per operator, one stream of operators, every graph
 * optimization; `memoryArena: false` turns off onnxruntime's CPU arena, which otherwise keeps the
 * largest activations any call needed (a batch of 8 long inputs held a t5-small student at 1.2 GB
 * instead of 0.5 GB) for the life of the session.
 */
export function sessionOptions(threads: number | undefined, memoryArena = true): Record<string, unknown> {
  return {
    intraOpNumThreads: Math.max(1, Math.floor(threads ?? defaultThreads())),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(memoryArena ? {} : { enableCpuMemArena: false }),
  };
}

/**
 * Opens the sessions of a local ONNX export (the transformers.js layout: `onnx/<graph><dtype suffix>.onnx`,
 * external data beside it) on onnxruntime-node by path, one after the other. transformers.js's own
 * sessions are not used for a local folder: run from this loop they held each call's first-step
 * outputs (16 MB for a t5-small and a 512-token input) for good, so a served student grew by that
 * much per request.
 */
export async function openLocalSessions(ort: OrtModule, folder: string, task: GenerationTask, dtype: string, options: Record<string, unknown>): Promise<OnnxSessionSet> {
  const suffix = ONNX_DTYPE_SUFFIX[dtype];
  if (suffix === undefined) throw new Prompt2ModelError({ message: `Unknown ONNX weights variant "${dtype}".`, hint: `Use one of ${Object.keys(ONNX_DTYPE_SUFFIX).join(', ')}.` });
  const file = (graph: string) => join(folder, 'onnx', `${graph}${suffix}.onnx`);
  // Decoder-only exports are `model.onnx`; some older ones are a merged decoder alone.
  const names: Record<string, string> =
    task === 'text2text-generation'
      ? { model: 'encoder_model', decoder_model_merged: 'decoder_model_merged' }
      : existsSync(file('model')) || !existsSync(file('decoder_model_merged')) ? { model: 'model' } : { decoder_model_merged: 'decoder_model_merged' };
  const missing = Object.values(names).filter((graph) => !existsSync(file(graph)));
  if (missing.length > 0) {
    throw new Prompt2ModelError({
      message: `${folder} has no ${missing.map((graph) => `onnx/${graph}${suffix}.onnx`).join(' or ')} (${dtype} weights of a ${task} model).`,
      hint: dtype === 'fp32' ? 'Export the model to ONNX first (prompt2model export).' : `Export it with ${dtype} weights, or run the fp32 weights.`,
    });
  }
  const sessions: Record<string, OrtSession> = {};
  const dispose = async () => {
    await Promise.all(Object.values(sessions).map((session) => session.release()));
  };
  try {
    // One at a time: two loading at once need both models' parse buffers at the same moment.
    for (const [name, graph] of Object.entries(names)) sessions[name] = await ort.InferenceSession.create(file(graph), options);
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }
  const readJson = async (name: string) => (existsSync(join(folder, name)) ? (JSON.parse(await readFile(join(folder, name), 'utf8')) as Record<string, unknown>) : null);
  return { sessions, config: (await readJson('config.json')) ?? {}, generation_config: await readJson('generation_config.json'), dispose };
}

type IdConfig = Record<string, unknown> | null | undefined;

function idList(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((id): id is number => typeof id === 'number') : typeof value === 'number' ? [value] : [];
}

function firstId(...values: unknown[]): number | undefined {
  for (const value of values) if (typeof value === 'number') return value;
  return undefined;
}

/** The sessions of one model and what its loop needs to know about them. */
export class OnnxGenerationModel {
  private readonly endTokens: Set<number>;
  private readonly padToken: number;
  private readonly startToken: number;
  private readonly encoder: OrtSession | undefined;
  private readonly decoder: OrtSession;

  /**
   * `model` holds the sessions: `openLocalSessions` for a local folder, a transformers.js model for a
   * Hub id (it downloads the files); the loop runs on its sessions.
   */
  constructor(
    private readonly ort: OrtModule,
    readonly task: GenerationTask,
    private readonly model: OnnxSessionSet,
    readonly tokenizer: TransformersTokenizer,
  ) {
    const config = model.config as IdConfig;
    const generation = model.generation_config as IdConfig;
    this.endTokens = new Set(idList(generation?.eos_token_id ?? config?.eos_token_id));
    this.padToken = firstId(generation?.pad_token_id, config?.pad_token_id, [...this.endTokens][0]) ?? 0;
    this.startToken = firstId(generation?.decoder_start_token_id, config?.decoder_start_token_id) ?? this.padToken;
    const sessions = model.sessions as Record<string, OrtSession | undefined>;
    if (task === 'text2text-generation') {
      this.encoder = sessions.model;
      this.decoder = sessions.decoder_model_merged!;
    } else {
      this.decoder = (sessions.model ?? sessions.decoder_model_merged)!;
    }
    if (!this.decoder || (task === 'text2text-generation' && !this.encoder)) {
      throw new Prompt2ModelError({
        message: `The ${task} model has no ${task === 'text2text-generation' ? 'encoder_model and decoder_model_merged' : 'model'} session (it has ${Object.keys(sessions).join(', ') || 'none'}).`,
        hint: 'Check that the folder holds a generation model in the layout transformers.js loads (onnx/encoder_model.onnx + onnx/decoder_model_merged.onnx, or onnx/model.onnx).',
      });
    }
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }

  /** Each prompt's length in tokens as `generate` feeds it (special tokens added, cut at the model's input limit). */
  promptLengths(prompts: string[]): number[] {
    const limit = Number((this.tokenizer as { model_max_length?: unknown }).model_max_length);
    return prompts.map((prompt) => {
      const length = this.tokenizer.encode(prompt, { add_special_tokens: true }).length;
      return Number.isFinite(limit) && limit > 0 ? Math.min(length, limit) : length;
    });
  }

  /** Generates an answer for each prompt (one batch). */
  async generate(prompts: string[], settings: GenerationSettings): Promise<GeneratedRow[]> {
    const decoderOnly = this.task === 'text-generation';
    this.tokenizer.padding_side = decoderOnly ? 'left' : 'right';
    const encoded = this.tokenizer(prompts, { padding: true, truncation: true, add_special_tokens: true });
    const batch = prompts.length;
    const width = encoded.input_ids.dims[1]!;
    const ids = BigInt64Array.from(encoded.input_ids.data as ArrayLike<bigint>, BigInt);
    const mask = BigInt64Array.from(encoded.attention_mask.data as ArrayLike<bigint>, BigInt);
    const steps = decoderOnly ? new DecoderOnlySteps(this.ort, this.decoder, batch, width, ids, mask) : new Seq2SeqSteps(this.ort, this.encoder!, this.decoder, batch, width, ids, mask, this.startToken);
    const rows = Array.from({ length: batch }, (_, row) => new RowState(row, this.tokenizer, settings, countOnes(mask, row * width, width)));
    // The rows still generating, in the order the step runner holds them.
    let active = rows;
    let logits = await steps.first();
    for (let step = 0; ; step++) {
      const vocab = logits.dims[2]!;
      const positions = logits.dims[1]!;
      const values = floatData(logits);
      const next = active.map((state, index) => {
        const offset = (index * positions + positions - 1) * vocab;
        return state.step(values.subarray(offset, offset + vocab), this.endTokens);
      });
      if (step + 1 >= settings.maxNewTokens) break;
      const keep = active.flatMap((state, index) => (state.done ? [] : [index]));
      if (keep.length === 0) break;
      throwIfAborted(settings.signal);
      // Finished rows leave the batch, so the steps left cost only what the rows still running need.
      if (keep.length < active.length) {
        steps.keepRows(keep);
        active = keep.map((index) => active[index]!);
      }
      logits = await steps.next(keep.map((index) => next[index]!));
    }
    return rows.map((state) => state.finish());
  }
}

function countOnes(mask: BigInt64Array, start: number, length: number): number {
  let count = 0;
  for (let index = start; index < start + length; index++) if (mask[index] !== 0n) count++;
  return count;
}

function floatData(tensor: OrtTensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return halfToFloat(tensor.data as Uint16Array);
  throw new Prompt2ModelError({ message: `The model's logits are ${tensor.type}; expected float32 or float16.`, hint: 'Export the model with float logits.' });
}

function halfToFloat(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let index = 0; index < half.length; index++) {
    const h = half[index]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    out[index] = exponent === 0 ? sign * 2 ** -14 * (fraction / 1024) : exponent === 31 ? (fraction ? Number.NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return out;
}

/** One row of a batch: its tokens, probabilities, text so far and why it ended. */
class RowState {
  done = false;
  private readonly tokens: number[] = [];
  private logProbSum = 0;
  /** Tokens whose log-probability is in the sum: the answer's, and the end token when it ended there. */
  private scoredTokens = 0;
  private finishReason: 'stop' | 'length' = 'length';
  /** The answer cut before a stop string, once one appeared. */
  private stoppedText: string | undefined;
  private sent = '';
  private readonly random: () => number;

  constructor(
    readonly row: number,
    private readonly tokenizer: TransformersTokenizer,
    private readonly settings: GenerationSettings,
    private readonly promptTokens: number,
  ) {
    this.random = seededRandom(settings.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /**
   * Picks the next token from the last position's logits (the first most likely one, or a sample),
   * records it and says whether the row is done; returns the token.
   */
  step(logits: Float32Array, endTokens: Set<number>): number {
    const { temperature, topP } = this.settings;
    const token = temperature > 0 ? sample(logits, temperature, topP, this.random) : argmax(logits);
    this.accept(token, endTokens.has(token), logits);
    return token;
  }

  private accept(token: number, isEnd: boolean, logits: Float32Array): void {
    // The end token counts too: deciding to stop is part of the answer (a model that is unsure
    // whether to say anything at all gives an empty answer a low confidence, not a perfect one).
    this.logProbSum += logProbability(logits, token);
    this.scoredTokens++;
    if (isEnd) {
      this.finishReason = 'stop';
      this.done = true;
      return;
    }
    this.tokens.push(token);
    if (this.settings.stop.length > 0 || this.settings.onText) {
      const text = this.text();
      const cut = firstStop(text, this.settings.stop);
      if (cut !== -1) {
        this.stoppedText = text.slice(0, cut);
        this.finishReason = 'stop';
        this.done = true;
        return;
      }
      this.stream(text, false);
    }
    if (this.tokens.length >= this.settings.maxNewTokens) this.done = true;
  }

  private text(): string {
    return this.tokens.length === 0 ? '' : this.tokenizer.decode(this.tokens, { skip_special_tokens: true });
  }

  /** Sends what is new of the answer, holding back edge whitespace and a possible stop string's start. */
  private stream(text: string, final: boolean): void {
    if (!this.settings.onText) return;
    let visible = text.trimStart();
    if (!final) visible = visible.slice(0, visible.length - heldBack(visible, this.settings.stop));
    visible = visible.trimEnd();
    // Pieces that change already-sent text (a merge across tokens) wait for the final answer.
    if (visible.length > this.sent.length && visible.startsWith(this.sent)) {
      this.settings.onText(this.row, visible.slice(this.sent.length));
      this.sent = visible;
    }
  }

  finish(): GeneratedRow {
    const output = (this.stoppedText ?? this.text()).trim();
    this.stream(output, true);
    const confidence = this.scoredTokens === 0 ? 1 : Math.exp(this.logProbSum / this.scoredTokens);
    return { output, promptTokens: this.promptTokens, outputTokens: this.tokens.length, confidence, finishReason: this.finishReason };
  }
}

/** Length of the longest end of `text` that begins a stop string (it may yet become one). */
function heldBack(text: string, stops: string[]): number {
  let held = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > held; length--) {
      if (text.endsWith(stop.slice(0, length))) {
        held = length;
        break;
      }
    }
  }
  return held;
}

function firstStop(text: string, stops: string[]): number {
  let first = -1;
  for (const stop of stops) {
    if (stop === '') continue;
    const index = text.indexOf(stop);
    if (index !== -1 && (first === -1 || index < first)) first = index;
  }
  return first;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = values[0]!;
  for (let index = 1; index < values.length; index++) {
    if (values[index]! > bestValue) {
      bestValue = values[index]!;
      best = index;
    }
  }
  return best;
}

/** log softmax(logits)[token], the model's own probability of the token (temperature 1). */
export function logProbability(logits: Float32Array, token: number): number {
  let max = -Infinity;
  for (let index = 0; index < logits.length; index++) if (logits[index]! > max) max = logits[index]!;
  let sum = 0;
  for (let index = 0; index < logits.length; index++) sum += Math.exp(logits[index]! - max);
  return logits[token]! - max - Math.log(sum);
}

/** A token drawn from softmax(logits / temperature), kept to the smallest set holding `topP` of the mass. */
export function sample(logits: Float32Array, temperature: number, topP: number, random: () => number): number {
  let max = -Infinity;
  for (let index = 0; index < logits.length; index++) if (logits[index]! > max) max = logits[index]!;
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let index = 0; index < logits.length; index++) {
    weights[index] = Math.exp((logits[index]! - max) / temperature);
    total += weights[index]!;
  }
  let candidates: number[];
  let mass = total;
  if (topP > 0 && topP < 1) {
    const order = Array.from(weights.keys()).sort((a, b) => weights[b]! - weights[a]! || a - b);
    candidates = [];
    let kept = 0;
    for (const index of order) {
      candidates.push(index);
      kept += weights[index]!;
      if (kept >= topP * total) break;
    }
    mass = kept;
  } else {
    candidates = Array.from(weights.keys());
  }
  let target = random() * mass;
  for (const index of candidates) {
    target -= weights[index]!;
    if (target < 0) return index;
  }
  return candidates.at(-1)!;
}

/** The feeds of a `past_key_values.*` input at length 0 (batch filled in, other symbolic sizes 0). */
function emptyPast(ort: OrtModule, session: OrtSession, name: string, batch: number): OrtTensor {
  const metadata = session.inputMetadata.find((entry) => entry.name === name);
  const shape = metadata && metadata.isTensor ? metadata.shape : [];
  const dims = shape.map((size, axis) => (axis === 0 ? batch : typeof size === 'number' && size >= 0 ? size : 0));
  const type = metadata && metadata.isTensor ? metadata.type : 'float32';
  return new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
}

interface StepRunner {
  /** Runs the prompt; returns the logits. */
  first(): Promise<OrtTensor>;
  /** Keeps only these rows (indices in the current batch, in order) for the next steps. */
  keepRows(rows: number[]): void;
  /** Appends one token per row; returns the logits. */
  next(tokens: number[]): Promise<OrtTensor>;
}

type RowData = BigInt64Array | Float32Array | Uint16Array;

/** The rows `rows` of a batch-major array of `batch` rows. */
function selectRows<T extends RowData>(data: T, batch: number, rows: number[]): T {
  const size = data.length / batch;
  const out = new (data.constructor as new (length: number) => T)(rows.length * size);
  rows.forEach((row, index) => out.set(data.subarray(row * size, (row + 1) * size) as never, index * size));
  return out;
}

/** The rows `rows` of a batch-major tensor. */
function selectTensorRows(ort: OrtModule, tensor: OrtTensor, rows: number[]): OrtTensor {
  return new ort.Tensor(tensor.type, selectRows(tensor.data as RowData, tensor.dims[0]!, rows), [rows.length, ...tensor.dims.slice(1)]);
}

function int64(ort: OrtModule, values: BigInt64Array, dims: number[]): OrtTensor {
  return new ort.Tensor('int64', values, dims);
}

function appendColumn(values: BigInt64Array, rows: number, width: number, column: (row: number) => bigint): BigInt64Array {
  const out = new BigInt64Array(rows * (width + 1));
  for (let row = 0; row < rows; row++) {
    out.set(values.subarray(row * width, (row + 1) * width), row * (width + 1));
    out[row * (width + 1) + width] = column(row);
  }
  return out;
}

/** transformers.js's position ids: the running count of real tokens minus one (1 under padding). */
function positionIds(mask: BigInt64Array, rows: number, width: number): BigInt64Array {
  const out = new BigInt64Array(rows * width);
  for (let row = 0; row < rows; row++) {
    let count = 0n;
    for (let column = 0; column < width; column++) {
      const index = row * width + column;
      count += mask[index]!;
      out[index] = mask[index] === 0n ? 1n : count - 1n;
    }
  }
  return out;
}

function pastNames(session: OrtSession): string[] {
  return session.inputNames.filter((name) => name.startsWith('past_key_values.'));
}

/** A decoder-only model: the prompt first, then one token per step (or the whole sequence without a cache). */
class DecoderOnlySteps implements StepRunner {
  private readonly past: string[];
  private readonly feeds: Record<string, OrtTensor> = {};
  private lastPositions: BigInt64Array;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    private batch: number,
    private width: number,
    private ids: BigInt64Array,
    private mask: BigInt64Array,
  ) {
    this.past = pastNames(session);
    this.lastPositions = new BigInt64Array(batch);
  }

  private has(name: string): boolean {
    return this.session.inputNames.includes(name);
  }

  async first(): Promise<OrtTensor> {
    const { ort, batch, width } = this;
    const positions = positionIds(this.mask, batch, width);
    for (let row = 0; row < batch; row++) this.lastPositions[row] = positions[row * width + width - 1]!;
    this.feeds.input_ids = int64(ort, this.ids, [batch, width]);
    if (this.has('attention_mask')) this.feeds.attention_mask = int64(ort, this.mask, [batch, width]);
    if (this.has('position_ids')) this.feeds.position_ids = int64(ort, positions, [batch, width]);
    for (const name of this.past) this.feeds[name] = emptyPast(ort, this.session, name, batch);
    return this.run();
  }

  private async run(): Promise<OrtTensor> {
    const outputs = await this.session.run(this.feeds);
    for (const name of this.past) this.feeds[name] = outputs[name.replace('past_key_values.', 'present.')]!;
    return outputs.logits!;
  }

  keepRows(rows: number[]): void {
    const { ort, batch } = this;
    this.mask = selectRows(this.mask, batch, rows);
    this.ids = selectRows(this.ids, batch, rows);
    this.lastPositions = selectRows(this.lastPositions, batch, rows);
    for (const name of this.past) this.feeds[name] = selectTensorRows(ort, this.feeds[name]!, rows);
    this.batch = rows.length;
  }

  async next(tokens: number[]): Promise<OrtTensor> {
    const { ort, batch } = this;
    this.mask = appendColumn(this.mask, batch, this.width, () => 1n);
    for (let row = 0; row < batch; row++) this.lastPositions[row] = this.lastPositions[row]! + 1n;
    if (this.past.length > 0) {
      this.width += 1;
      this.feeds.input_ids = int64(ort, BigInt64Array.from(tokens, BigInt), [batch, 1]);
      if (this.has('position_ids')) this.feeds.position_ids = int64(ort, this.lastPositions.slice(), [batch, 1]);
    } else {
      this.ids = appendColumn(this.ids, batch, this.width, (row) => BigInt(tokens[row]!));
      this.width += 1;
      this.feeds.input_ids = int64(ort, this.ids, [batch, this.width]);
      if (this.has('position_ids')) this.feeds.position_ids = int64(ort, positionIds(this.mask, batch, this.width), [batch, this.width]);
    }
    if (this.has('attention_mask')) this.feeds.attention_mask = int64(ort, this.mask, [batch, this.width]);
    return this.run();
  }
}

/** An encoder-decoder: the encoder once, then the (merged) decoder one token per step. */
class Seq2SeqSteps implements StepRunner {
  private readonly past: string[];
  private readonly selfAttentionPast: string[];
  private readonly fetches: string[];
  private readonly feeds: Record<string, OrtTensor> = {};
  private decoderIds: BigInt64Array;
  private decoderWidth = 1;

  constructor(
    private readonly ort: OrtModule,
    private readonly encoder: OrtSession,
    private readonly decoder: OrtSession,
    private batch: number,
    private readonly width: number,
    private readonly ids: BigInt64Array,
    private readonly mask: BigInt64Array,
    startToken: number,
  ) {
    this.past = pastNames(decoder);
    this.selfAttentionPast = this.past.filter((name) => !name.includes('.encoder.'));
    // Each step's outputs are copied into JavaScript: after the first, only the logits and the growing self-attention cache.
    this.fetches = ['logits', ...this.selfAttentionPast.map((name) => name.replace('past_key_values.', 'present.'))];
    this.decoderIds = new BigInt64Array(batch).fill(BigInt(startToken));
  }

  async first(): Promise<OrtTensor> {
    const { ort, batch, width } = this;
    const encoderFeeds: Record<string, OrtTensor> = { input_ids: int64(ort, this.ids, [batch, width]) };
    const mask = int64(ort, this.mask, [batch, width]);
    if (this.encoder.inputNames.includes('attention_mask')) encoderFeeds.attention_mask = mask;
    const encoded = await this.encoder.run(encoderFeeds);
    this.feeds.encoder_hidden_states = encoded.last_hidden_state!;
    if (this.decoder.inputNames.includes('encoder_attention_mask')) this.feeds.encoder_attention_mask = mask;
    this.feeds.input_ids = int64(ort, this.decoderIds, [batch, 1]);
    for (const name of this.past) this.feeds[name] = emptyPast(ort, this.decoder, name, batch);
    if (this.decoder.inputNames.includes('use_cache_branch')) this.feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([0]), [1]);
    const outputs = await this.decoder.run(this.feeds);
    // The cross-attention entries never change: keep the first step's, and fetch only the rest from now on.
    for (const name of this.past) this.feeds[name] = outputs[name.replace('past_key_values.', 'present.')]!;
    if (this.feeds.use_cache_branch) this.feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([1]), [1]);
    return outputs.logits!;
  }

  keepRows(rows: number[]): void {
    const { ort } = this;
    for (const name of ['encoder_hidden_states', 'encoder_attention_mask', ...this.past]) {
      if (this.feeds[name]) this.feeds[name] = selectTensorRows(ort, this.feeds[name]!, rows);
    }
    this.decoderIds = selectRows(this.decoderIds, this.batch, rows);
    this.batch = rows.length;
  }

  async next(tokens: number[]): Promise<OrtTensor> {
    const { ort, batch } = this;
    if (this.past.length > 0) {
      this.feeds.input_ids = int64(ort, BigInt64Array.from(tokens, BigInt), [batch, 1]);
    } else {
      this.decoderIds = appendColumn(this.decoderIds, batch, this.decoderWidth, (row) => BigInt(tokens[row]!));
      this.decoderWidth += 1;
      this.feeds.input_ids = int64(ort, this.decoderIds, [batch, this.decoderWidth]);
    }
    const outputs = await this.decoder.run(this.feeds, this.fetches);
    for (const name of this.selfAttentionPast) this.feeds[name] = outputs[name.replace('past_key_values.', 'present.')]!;
    return outputs.logits!;
  }
}

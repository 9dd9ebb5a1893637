import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { z } from 'zod';
import type { StageContext } from './context.js';
import { throwIfAborted } from './errors/abort-error.js';
import { fingerprintFile, fingerprintPath } from './util/fingerprint.js';
import { MANIFEST_FILE } from './run-store.js';
import { RunManifestSchema } from './schemas.js';
import { hashValue } from './util/hash.js';

/** What a step is given and what it writes, so a rerun knows whether its saved result still holds. */
export interface StepOptions<T> {
  /**
   * Everything that shapes the step's output, by name: its inputs (the spec, upstream files'
   * fingerprints) and the options that change what it produces. A change to any of them redoes the
   * step, with one line naming what changed. Options that cannot change a finished output (a budget
   * cap, concurrency) do not belong here.
   */
  inputs?: Record<string, unknown>;
  /** Files the step writes besides its artifact (run-folder relative). Edited or truncated → redone. */
  outputs?: readonly string[];
  /**
   * Files or folders the saved result refers to (a model folder, its ONNX export), absolute or
   * run-folder relative. Fingerprinted when the step finishes; one deleted or changed later makes the
   * step run again (which redoes only what is missing: a finished training job re-exports). Never
   * deleted by `discard`.
   */
  artifactPaths?(saved: T): readonly string[];
  /**
   * Whether a saved result is what was asked for; a reason when it is not (stopped by the budget
   * cap). An unfinished result is recorded `partial`, and the next run continues it.
   */
  unfinished?(saved: T): string | undefined;
  /**
   * Whether a saved result can be continued rather than redone when `inputs` changed only in the
   * listed names (e.g. a larger example target: generation resumes). Default: never.
   */
  continuable?: readonly string[];
  /** Removes the step's partial outputs before a redo with other inputs. Default: delete `outputs`. */
  discard?(): Promise<void>;
  /**
   * How the artifact is stored when its form on disk differs from the value (paths relative to the
   * run folder, so a moved folder still finds its files): `save` before writing, `load` after reading.
   */
  stored?: { save(value: T): unknown; load(saved: T): T };
}

/**
 * Runs one step unless the run folder already holds its finished result for the same inputs.
 * Records status, an input hash per input, output fingerprints, timing and cost in the manifest.
 * A saved result is reused only when its inputs are unchanged, its output files are as written, and
 * it is finished; otherwise the step runs again (resuming its own partial output where it can).
 */
export async function runStep<T>(
  context: StageContext,
  name: string,
  artifact: string,
  schema: z.ZodType<T>,
  compute: () => Promise<T>,
  options: StepOptions<T> = {},
): Promise<T> {
  throwIfAborted(context.signal);
  const { store, events } = context;
  const inputs = Object.fromEntries(Object.entries(options.inputs ?? {}).map(([key, value]) => [key, hashValue(value)]));
  const inputsHash = hashValue(inputs);
  const outputs = [...(options.outputs ?? [])];
  const discard = options.discard ?? (() => Promise.all(outputs.map((file) => rm(store.path(file), { force: true }))).then(() => undefined));
  const record = store.stage(name);
  if (record && (record.status === 'done' || record.status === 'partial')) {
    const changed = changedInputs(record.inputs, inputs);
    if (record.inputsHash !== undefined && record.inputsHash !== inputsHash) {
      const continuable = changed.length > 0 && changed.every((key) => options.continuable?.includes(key));
      events.log('info', `${name}: ${changed.join(', ') || 'its inputs'} changed since the last run; ${continuable ? 'continuing it' : 'redoing it'} (and the steps that use it).`, name);
      if (!continuable) await discard();
    } else {
      const damaged = await changedOutputs(context, record.outputs);
      const read = damaged.length === 0 ? await store.readJson(artifact, schema).catch(() => undefined) : undefined;
      const saved = read !== undefined && options.stored ? options.stored.load(read) : read;
      if (damaged.length > 0) {
        events.log('warn', `${name}: ${damaged.join(', ')} no longer match${damaged.length === 1 ? 'es' : ''} what this step wrote (edited, truncated or removed); redoing it. Teacher calls already made come from the cache.`, name);
        await discard();
      } else if (saved !== undefined) {
        const reason = options.unfinished?.(saved);
        if (!reason) {
          events.emit({ type: 'stage-finish', stage: name, status: 'cached', durationMs: 0 });
          return saved;
        }
        events.log('info', `${name}: the last run stopped early (${reason}); continuing it.`, name);
      }
    }
  }
  const started = Date.now();
  events.emit({ type: 'stage-start', stage: name, resumed: record !== undefined });
  await store.startStage(name);
  try {
    const value = await compute();
    await store.writeJson(artifact, options.stored ? options.stored.save(value) : value);
    await store.saveCost(context.ledger.snapshot());
    const fingerprints: Record<string, string> = {};
    for (const file of outputs) fingerprints[file] = await fingerprintPath(store.path(file));
    for (const path of options.artifactPaths?.(value) ?? []) fingerprints[recordedName(store.dir, path)] = await fingerprintPath(resolveRecorded(store.dir, path));
    const reason = options.unfinished?.(value);
    await store.finishStage(name, artifact, { inputsHash, inputs, outputs: fingerprints, ...(reason ? { partial: reason } : {}) });
    events.emit({ type: 'stage-finish', stage: name, status: 'done', durationMs: Date.now() - started });
    return value;
  } catch (error) {
    await store.saveCost(context.ledger.snapshot());
    await store.failStage(name, error);
    events.emit({ type: 'stage-finish', stage: name, status: 'failed', durationMs: Date.now() - started, error: (error as Error).message });
    throw error;
  }
}

function changedInputs(before: Record<string, string> | undefined, now: Record<string, string>): string[] {
  if (!before) return Object.keys(now);
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys].filter((key) => before[key] !== now[key]);
}

async function changedOutputs(context: StageContext, recorded: Record<string, string> | undefined): Promise<string[]> {
  return damagedAmong(context.store.dir, recorded);
}

async function damagedAmong(dir: string, recorded: Record<string, string> | undefined): Promise<string[]> {
  if (!recorded) return [];
  const damaged: string[] = [];
  for (const [file, fingerprint] of Object.entries(recorded)) {
    if ((await fingerprintPath(resolveRecorded(dir, file))) !== fingerprint) damaged.push(file);
  }
  return damaged;
}

/** A path inside the run folder is recorded relative to it (a moved folder still checks); others stay absolute. */
function recordedName(dir: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const inside = relative(dir, path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}

function resolveRecorded(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

/**
 * The files a finished step of the run folder `dir` wrote that no longer match their recorded
 * fingerprints (edited, truncated or removed), by step. Read-only: a verb that takes another
 * verb's folder as input (`train --data` on a `generate` folder) checks it before trusting it.
 */
export async function findDamagedOutputs(dir: string): Promise<Array<{ step: string; file: string }>> {
  let manifest;
  try {
    manifest = RunManifestSchema.parse(JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')));
  } catch {
    return [];
  }
  const damaged: Array<{ step: string; file: string }> = [];
  for (const [step, record] of Object.entries(manifest.stages)) {
    if (record.status !== 'done' && record.status !== 'partial') continue;
    for (const file of await damagedAmong(dir, record.outputs)) damaged.push({ step, file });
  }
  return damaged;
}

/** The fingerprint of a run-folder file, for a later step's `inputs`. */
export function fingerprintOf(context: StageContext, file: string): Promise<string> {
  return fingerprintFile(context.store.path(file));
}

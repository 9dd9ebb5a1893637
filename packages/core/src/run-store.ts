import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { Prompt2ModelError } from './errors/prompt2model-error.js';
import { ValidationError } from './errors/validation-error.js';
import type { CostSnapshot } from './cost.js';
import { RunManifestSchema, type RunManifest, type StageRecord } from './schemas.js';
import { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
import { redactSecrets } from './util/redact.js';
import { lockFolder } from './util/folder-lock.js';

import { RUN_FILES } from './run-folder/layout.js';

export const MANIFEST_FILE = RUN_FILES.manifest;

/**
 * A run folder: `manifest.json` records each stage's status and artifact; artifacts are written
 * atomically, so a crash or Ctrl-C at any moment leaves a folder that the same command resumes.
 */
export class RunStore {
  private manifest: RunManifest;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    manifest: RunManifest,
  ) {
    this.manifest = manifest;
  }

  /** Opens (or creates) the run folder at `dir`. */
  static async open(dir: string, options: { config?: Record<string, unknown> } = {}): Promise<RunStore> {
    const absolute = resolve(dir);
    try {
      await mkdir(absolute, { recursive: true });
    } catch (error) {
      throw runFolderError(error, absolute);
    }
    // One process at a time writes a run folder.
    await lockFolder(absolute, `run folder of ${process.argv.slice(2, 3).join(' ') || 'a run'}`);
    const manifestPath = join(absolute, MANIFEST_FILE);
    let manifest: RunManifest;
    let text: string | undefined;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text === undefined) {
      const now = new Date().toISOString();
      manifest = { version: 1, createdAt: now, updatedAt: now, config: {}, stages: {} };
    } else {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ValidationError({
          subject: manifestPath,
          issues: [{ path: '', message: 'not valid JSON (damaged, perhaps by a full disk or an editor)' }],
          hint: manifestRecoveryHint(manifestPath),
        });
      }
      const parsed = RunManifestSchema.safeParse(json);
      if (!parsed.success) throw ValidationError.fromZod(manifestPath, parsed.error, manifestRecoveryHint(manifestPath));
      manifest = parsed.data;
    }
    const store = new RunStore(absolute, manifest);
    if (options.config) {
      store.manifest.config = { ...store.manifest.config, ...sanitizeConfig(options.config) };
    }
    // A stage left `running` by a crash is unfinished: it runs again (resuming its own partial output).
    for (const record of Object.values(store.manifest.stages)) {
      if (record.status === 'running') record.status = 'pending';
    }
    await store.saveManifest();
    return store;
  }

  /** Absolute path of a file inside the run folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  get cacheDir(): string {
    return this.path('cache');
  }

  getManifest(): RunManifest {
    return structuredClone(this.manifest);
  }

  stage(name: string): StageRecord | undefined {
    return this.manifest.stages[name];
  }

  isDone(name: string): boolean {
    return this.manifest.stages[name]?.status === 'done';
  }

  /** The record of every stage, by name. */
  stages(): Record<string, StageRecord> {
    return structuredClone(this.manifest.stages);
  }

  async startStage(name: string): Promise<void> {
    this.manifest.stages[name] = { ...this.manifest.stages[name], status: 'running', startedAt: new Date().toISOString() };
    delete this.manifest.stages[name]!.error;
    await this.saveManifest();
  }

  /**
   * Records a finished stage with what it was given (`inputsHash`, per-input hashes) and the
   * fingerprints of what it wrote; `partial` marks one that stopped short (the reason), which the
   * next run continues instead of reusing.
   */
  async finishStage(
    name: string,
    artifact?: string,
    details: { inputsHash?: string; inputs?: Record<string, string>; outputs?: Record<string, string>; partial?: string } = {},
  ): Promise<void> {
    const { partial, ...recorded } = details;
    const previous = { ...this.manifest.stages[name] };
    delete previous.note;
    this.manifest.stages[name] = {
      ...previous,
      ...recorded,
      status: partial ? 'partial' : 'done',
      finishedAt: new Date().toISOString(),
      ...(artifact ? { artifact } : {}),
      ...(partial ? { note: partial } : {}),
    };
    await this.saveManifest();
  }

  async failStage(name: string, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    this.manifest.stages[name] = { ...this.manifest.stages[name], status: 'failed', error: redactSecrets(message) };
    await this.saveManifest();
  }

  /** Marks a finished stage as not done, so the next run repeats it. */
  async resetStage(name: string): Promise<void> {
    delete this.manifest.stages[name];
    await this.saveManifest();
  }

  async saveCost(cost: CostSnapshot): Promise<void> {
    this.manifest.cost = cost;
    await this.saveManifest();
  }

  async writeJson(name: string, value: unknown): Promise<string> {
    const path = this.path(name);
    await writeJsonAtomic(path, value);
    return path;
  }

  async writeText(name: string, text: string): Promise<string> {
    const path = this.path(name);
    await writeFileAtomic(path, text);
    return path;
  }

  async readJson<T>(name: string, schema?: z.ZodType<T>): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const value = JSON.parse(text) as unknown;
    if (!schema) return value as T;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw ValidationError.fromZod(this.path(name), parsed.error);
    return parsed.data;
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.path(name));
      return true;
    } catch {
      return false;
    }
  }

  private saveManifest(): Promise<void> {
    // Serialise manifest writes: two stages finishing at once must not lose each other's update.
    this.writes = this.writes
      .catch(() => undefined)
      .then(async () => {
        this.manifest.updatedAt = new Date().toISOString();
        await writeJsonAtomic(this.path(MANIFEST_FILE), this.manifest);
      });
    return this.writes;
  }
}

/** A file-system failure on the run folder as a sentence with the fix, never a bare EEXIST/ENOENT. */
function runFolderError(error: unknown, dir: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  const why: Record<string, [string, string]> = {
    EEXIST: [`The run folder ${dir} cannot be created: a file of that name (or a file above it) is in the way.`, 'Pass a folder path as `outDir`: one that does not exist yet, or an earlier run folder.'],
    ENOTDIR: [`The run folder ${dir} cannot be created: part of its path is a file, not a folder.`, 'Pass a folder path as `outDir`: one that does not exist yet, or an earlier run folder.'],
    EACCES: [`The run folder ${dir} cannot be created or written: permission denied.`, 'Choose a folder you can write to as `outDir`, or fix its permissions.'],
    EPERM: [`The run folder ${dir} cannot be created or written: permission denied.`, 'Choose a folder you can write to as `outDir`, or fix its permissions.'],
    EROFS: [`The run folder ${dir} is on a read-only file system.`, 'Choose a writable folder as `outDir`.'],
    ENOSPC: [`No space left on the device that holds ${dir}.`, 'Free some disk space, or choose a folder on another disk as `outDir`.'],
  };
  const entry = code ? why[code] : undefined;
  return entry ? new Prompt2ModelError({ message: entry[0], hint: entry[1], cause: error, exitCategory: 'configuration' }) : error;
}

function manifestRecoveryHint(manifestPath: string): string {
  return (
    `Move it aside and rerun the same command: mv "${manifestPath}" "${manifestPath}.damaged". The steps are redone, ` +
    'generation resumes from its own progress log, and every teacher call already made is answered from the LLM cache ' +
    '(the CLI keeps it in your user cache directory), so nothing is paid for twice.'
  );
}

const SECRET_KEY = /(key|token|secret|password|authorization)/i;

/** Drops secret-looking keys and redacts values before config lands in the manifest. */
export function sanitizeConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || SECRET_KEY.test(key)) continue;
    out[key] = typeof value === 'string' ? redactSecrets(value) : value;
  }
  return out;
}

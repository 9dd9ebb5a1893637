import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Prompt2ModelError } from '../errors/prompt2model-error.js';

export const LOCK_FILE = '.prompt2model.lock';

/** Locks this process holds (folder → lock file), released when it exits. */
const held = new Map<string, string>();
let exitHookInstalled = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Keeps other processes out of a folder this one writes (a run folder, a Python environment, an
 * export folder): a lock file created exclusively, holding the owner's pid and what it does. A lock
 * whose owner is gone (a crash, kill -9) is taken over; one whose owner runs throws an error that
 * names the holder's pid (the CLI exits 2). The same process may lock a folder again. Released when
 * this process exits, or by the returned function.
 */
export async function lockFolder(dir: string, purpose: string): Promise<() => void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  if (held.has(dir)) return () => undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }), { flag: 'wx' });
      held.set(dir, path);
      installExitHook();
      return () => release(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const lock = folderLockState(dir);
    if (lock.state === 'free') continue; // Released meanwhile: try again.
    if (lock.state === 'held' && lock.pid === process.pid) {
      held.set(dir, path);
      return () => release(dir);
    }
    if (lock.state === 'held') {
      throw new Prompt2ModelError({
        message: `${dir} is in use by another prompt2model process (pid ${lock.pid}${lock.purpose ? `, ${lock.purpose}` : ''}).`,
        hint: `Wait for it to finish, or stop it (kill ${lock.pid}), then rerun. Two processes writing one folder would corrupt it.`,
        exitCategory: 'configuration',
      });
    }
    // The owner is gone (crashed or killed): the lock is stale.
    rmSync(path, { force: true });
  }
  throw new Prompt2ModelError({ message: `Could not lock ${dir}: its lock file keeps changing.`, hint: 'Another process is starting on it; rerun in a moment.', exitCategory: 'configuration' });
}

/** Who holds a folder's lock: nobody, a running process, or a process that is gone (it stopped mid-write). */
export type FolderLockState = { state: 'free' } | { state: 'held' | 'stale'; pid?: number; purpose?: string };

/**
 * The lock state of a folder, without taking the lock. A `stale` lock means its writer was killed
 * before it finished: what it wrote may be partial (an ONNX export cut off mid-file).
 */
export function folderLockState(dir: string): FolderLockState {
  let text: string;
  try {
    text = readFileSync(join(dir, LOCK_FILE), 'utf8');
  } catch {
    return { state: 'free' };
  }
  let owner: { pid?: unknown; purpose?: unknown } = {};
  try {
    owner = JSON.parse(text) as typeof owner;
  } catch {
    // Half-written: its writer died while taking the lock.
  }
  const pid = typeof owner.pid === 'number' ? owner.pid : undefined;
  const purpose = typeof owner.purpose === 'string' ? owner.purpose : undefined;
  const live = pid !== undefined && (pid === process.pid || alive(pid));
  return { state: live ? 'held' : 'stale', ...(pid !== undefined ? { pid } : {}), ...(purpose ? { purpose } : {}) };
}

function release(dir: string): void {
  const path = held.get(dir);
  if (!path) return;
  held.delete(dir);
  rmSync(path, { force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const dir of [...held.keys()]) release(dir);
  });
}

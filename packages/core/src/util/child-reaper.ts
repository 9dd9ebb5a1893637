import { spawn } from 'node:child_process';

/**
 * The watchdog's code, run by `node -e`: it holds a pipe from this process on its stdin. When this
 * process dies, however (kill -9 included), the pipe closes; the watchdog then stops the child's
 * process group (SIGTERM, SIGKILL 3 s later) and exits. It exits by itself once the child is gone.
 */
const REAPER_SOURCE = `
const pid = Number(process.argv[1]);
const signal = (name) => { try { process.kill(-pid, name); } catch { try { process.kill(pid, name); } catch {} } };
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  signal('SIGTERM');
  setTimeout(() => { if (alive()) signal('SIGKILL'); process.exit(0); }, 3000);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.on('error', stop);
process.stdin.resume();
setInterval(() => { if (!stopping && !alive()) process.exit(0); }, 1000);
`;

/**
 * Makes a child process (and its process group, when it leads one) stop when this process dies,
 * even by kill -9, which no exit hook sees: a watched pipe, the portable stand-in for Linux's
 * parent-death signal. Every place that spawns a long-lived child (the training, predict and export
 * workers, setup's pip) calls this once. Returns a function to call when the child has exited.
 */
export function stopWithParent(childPid: number | undefined): () => void {
  if (childPid === undefined) return () => undefined;
  const reaper = spawn(process.execPath, ['-e', REAPER_SOURCE, String(childPid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  reaper.on('error', () => undefined);
  reaper.stdin?.on('error', () => undefined);
  // Neither the watchdog nor its pipe keeps this process alive.
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return () => {
    if (reaper.exitCode === null && reaper.signalCode === null) reaper.kill('SIGKILL');
  };
}

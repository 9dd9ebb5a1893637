"""One worker per job folder: a second worker (an orphan of a killed run, or a double launch) would
write the same checkpoints. The lock file holds the owner's pid; a lock whose owner is gone is stale
and taken over."""

from __future__ import annotations

import os
import socket

LOCK_FILE = "worker.lock"


class JobLocked(RuntimeError):
    def __init__(self, pid: int, host: str, path: str):
        super().__init__(f"another worker (pid {pid} on {host}) is already training this job ({path})")
        self.pid = pid
        self.host = host


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(output_dir: str, pid: int | None = None) -> str:
    """Takes the job's lock or raises JobLocked; returns the lock path (release it with ``release``)."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_FILE)
    pid = os.getpid() if pid is None else pid
    host = socket.gethostname()
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path, encoding="utf-8") as handle:
                    owner_pid, _, owner_host = handle.read().strip().partition(" ")
                owner = int(owner_pid)
            except (OSError, ValueError):
                owner, owner_host = -1, host
            # A lock from another host cannot be checked: the job folder is shared, so respect it.
            if owner > 0 and (owner_host != host or (owner != pid and _alive(owner))):
                raise JobLocked(owner, owner_host, path)
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{pid} {host}\n")
        return path
    raise JobLocked(-1, host, path)


def release(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def run_locked(output_dir: str, events, work) -> int:
    """Runs ``work()`` (returning an exit code) holding the job's lock; a job another live worker
    holds is the protocol's ``locked`` error, exit code 1."""
    try:
        path = acquire(output_dir)
    except JobLocked as error:
        events.emit("error", message=str(error), code="locked", hint=f"Wait for it, or stop it (kill {error.pid}) and rerun.")
        return 1
    try:
        return work()
    finally:
        release(path)

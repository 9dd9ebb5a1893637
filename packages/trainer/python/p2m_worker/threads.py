"""CPU threads for torch: chosen from the cores this process may use, not the machine's.

torch's default (one intra-op thread per core it sees, plus as many inter-op threads) oversubscribes
a small or shared machine: on a 2-core VM a training step took 4.5-7 s with the default and 0.5 s
with one thread, because OpenMP threads spin-wait for a core that the parent process (the Node CLI
reading events) or another job holds. So: count the usable cores (CPU affinity, then the cgroup CPU
quota of a container), leave one for the rest of the process tree on machines with four cores or
fewer, and use one inter-op thread. ``P2M_THREADS`` or the job's ``threads`` overrides the count.
No torch import here: the pure parts are unit-tested.
"""

from __future__ import annotations

import math
import os

ENVIRONMENT_VARIABLE = "P2M_THREADS"


def cgroup_cpu_limit(root: str = "/sys/fs/cgroup"):
    """CPUs allowed by the cgroup quota (v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us``), or None."""
    try:
        with open(os.path.join(root, "cpu.max"), encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max" and int(period) > 0:
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(root, "cpu", "cpu.cfs_quota_us"), encoding="ascii") as handle:
            quota = int(handle.read().strip())
        with open(os.path.join(root, "cpu", "cpu.cfs_period_us"), encoding="ascii") as handle:
            period = int(handle.read().strip())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def usable_cores(affinity=None, quota=None) -> int:
    """Cores this process may run on: the affinity mask, capped by the cgroup quota (rounded up)."""
    if affinity is None:
        try:
            affinity = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            affinity = os.cpu_count() or 1
    cores = max(1, affinity)
    if quota is not None and quota > 0:
        cores = min(cores, max(1, math.ceil(quota)))
    return cores


def choose_threads(requested=None, cores=None, environment=None) -> dict:
    """Intra-op and inter-op threads, and where the count came from (job, P2M_THREADS or auto)."""
    environment = os.environ if environment is None else environment
    cores = usable_cores(quota=cgroup_cpu_limit()) if cores is None else cores
    source = "auto"
    count = None
    if requested is not None:
        count, source = int(requested), "job"
    elif environment.get(ENVIRONMENT_VARIABLE, "").strip():
        text = environment[ENVIRONMENT_VARIABLE].strip()
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{ENVIRONMENT_VARIABLE} must be a whole number of threads (at least 1), got {text!r}")
        count, source = int(text), ENVIRONMENT_VARIABLE
    if count is None:
        count = cores - 1 if 1 < cores <= 4 else cores
    return {"intraOp": max(1, count), "interOp": 1, "usableCores": cores, "source": source}


def apply_threads(requested=None) -> dict:
    """Chooses and sets torch's threads (call before the first torch operation); returns the choice."""
    import torch

    choice = choose_threads(requested)
    torch.set_num_threads(choice["intraOp"])
    try:
        torch.set_num_interop_threads(choice["interOp"])
    except RuntimeError:
        # Already fixed once inter-op work has started in this process; the intra-op count still applies.
        choice["interOp"] = torch.get_num_interop_threads()
    return choice


def describe(choice: dict) -> str:
    return f"cpu with {choice['intraOp']} thread{'s' if choice['intraOp'] != 1 else ''} ({choice['usableCores']} usable cores, {choice['source']})"

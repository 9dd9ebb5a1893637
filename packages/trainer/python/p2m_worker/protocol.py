"""The worker protocol: one JSON object a line on stdout, mirrored into output/events.jsonl.

Event types (see packages/core/src/stages.ts, ``TrainingEvent``): start, step, eval, checkpoint,
log, done, error. Field names are camelCase to match the TypeScript side.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import IO, Any


def is_main_process() -> bool:
    """Under accelerate/torchrun only rank 0 reports, so the stream is not repeated per GPU."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0) == 0


def clean(value: Any) -> Any:
    """JSON has no NaN/Infinity: they become null (a diverged loss must still be reported)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        try:
            return clean(value.item())
        except (TypeError, ValueError):
            return str(value)
    return value


def format_event(event_type: str, **fields: Any) -> str:
    """One protocol line (without the newline)."""
    payload = {"type": event_type}
    payload.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(clean(payload), ensure_ascii=False, separators=(",", ":"))


class EventWriter:
    """Writes events to a stream (stdout) and appends them to a log file, flushing each line."""

    def __init__(self, stream: IO[str] | None = None, log_path: str | None = None, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = is_main_process() if enabled is None else enabled
        self.log = None
        if self.enabled and log_path:
            os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
            self.log = open(log_path, "a", encoding="utf-8")

    def emit(self, event_type: str, **fields: Any) -> None:
        if not self.enabled:
            return
        line = format_event(event_type, time=round(time.time(), 3), **fields)
        self.stream.write(line + "\n")
        self.stream.flush()
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()

    def close(self) -> None:
        if self.log:
            self.log.close()
            self.log = None


def run_until_done(events: "EventWriter", work, hint_for=None) -> int:
    """Runs a one-shot job (predict, export) to the protocol: Ctrl-C or a polite kill stops it at
    once (there is nothing to checkpoint), its result becomes ``done``, any failure an ``error``.
    Returns the exit code: 0 done, 1 error, 130 stopped."""
    import signal
    import traceback

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        result = work()
    except KeyboardInterrupt:
        events.emit("error", message="cancelled", cancelled=True)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure must reach the protocol
        events.emit("error", message=f"{type(error).__name__}: {error}", hint=hint_for(error) if hint_for else None, traceback=traceback.format_exc(limit=8))
        return 1
    events.emit("done", **result)
    return 0

"""Entry point: ``python -m p2m_worker --config job.json [--check]``.

Exit codes: 0 done, 1 training error, 2 invalid config or data, 3 missing packages, 130 cancelled.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback

from .config import ConfigError, load_training_config_or_report, read_examples
from .deps import ModelLoadError, install_command, load_hint, missing_packages, offline_for_local, report_missing
from .lock import run_locked
from .protocol import EventWriter


def hint_for(error: BaseException) -> str | None:
    text = str(error).lower()
    if "out of memory" in text:
        return "Lower batchSize (raise gradientAccumulationSteps to keep the effective batch), lower maxSourceLength, or use method lora."
    if "target modules" in text and "not found" in text:
        return "Set lora.targetModules to module names that exist in this model."
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="p2m_worker", description="prompt2model training worker")
    parser.add_argument("--config", required=True, help="job.json written by the prompt2model trainer")
    parser.add_argument("--check", action="store_true", help="validate the config, data and packages, then exit")
    options = parser.parse_args(argv)

    events = EventWriter()
    config = load_training_config_or_report(options.config, events)
    if config is None:
        return 2
    events.close()
    events = EventWriter(log_path=os.path.join(config.output_dir, "events.jsonl"))
    try:
        train_count = len(read_examples(config.train_path))
        validation_count = len(read_examples(config.validation_path)) if config.validation_path else 0
    except (ConfigError, OSError) as error:
        events.emit("error", message=str(error), code="invalid-data")
        return 2
    if train_count == 0:
        events.emit("error", message=f"{config.train_path} has no examples", code="invalid-data")
        return 2

    missing = missing_packages()
    if options.check:
        if missing:
            events.emit("log", level="warn", message=f"missing Python packages: {', '.join(missing)}", install=install_command(missing))
        events.emit("done", check=True, trainExamples=train_count, validationExamples=validation_count, missing=missing)
        return 0
    if missing:
        report_missing(events, missing)
        return 3

    from .protocol import is_main_process

    offline_for_local(config.base_model)

    # Under accelerate/torchrun only rank 0 holds the lock.
    if is_main_process():
        return run_locked(config.output_dir, events, lambda: _train(config, events))
    return _train(config, events)


def _train(config, events: EventWriter) -> int:
    from .train import StopFlag, run

    stop = StopFlag()

    def request_stop(signum, _frame):
        # Flags only: the training callback reports the stop. An event written from here could land
        # inside the main thread's own write of one (the handler runs wherever the main thread is).
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        result = run(config, events, stop)
    except KeyboardInterrupt:
        events.emit("error", message="cancelled", cancelled=True)
        return 130
    except ModelLoadError as error:
        cause = error.__cause__ or error
        events.emit("error", message=f"Cannot load {config.base_model}: {type(cause).__name__}: {cause}", code="model-load", hint=load_hint(config.base_model))
        return 2
    except Exception as error:  # noqa: BLE001 - every failure must reach the protocol
        events.emit("error", message=f"{type(error).__name__}: {error}", hint=hint_for(error), traceback=traceback.format_exc(limit=8))
        return 1
    if result is None:
        events.emit("error", message="cancelled", cancelled=True)
        return 130
    events.emit("done", metrics=result.get("metrics"))
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

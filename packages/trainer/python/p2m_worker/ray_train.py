"""The training job under Ray Train: ``python -m p2m_worker.ray_train --config job.json --workers N
[--gpus-per-worker G] [--cpus-per-worker C] [--address auto|ray://host:10001] [--storage PATH]``.

This process is the Ray *driver*. It connects to a cluster (``--address``) or starts a local one for
the job (stopped again when it ends, and with it when it dies: Ray fate-shares a cluster it started
with its driver, and the TypeScript side stops the driver's process group when it dies itself), then
runs the same training as the local worker (``train.run``: the Hugging Face Trainer, LoRA or full)
in N Ray Train workers under ``TorchTrainer`` (gloo on CPU, NCCL on GPUs), the Trainer prepared
with ``prepare_trainer`` and its checkpoints reported to Ray Train (``RayTrainReportCallback``).

Ray Train keeps the checkpoints in ``--storage`` (default: ``output/ray`` in the job folder; a
shared path or bucket such as ``s3://...`` for a multi-node cluster) under a run named after the
job, so a rerun of a killed job resumes from its last reported checkpoint.

What comes back is the local worker's protocol: rank 0's events travel through a small Ray actor to this
driver, which writes them on stdout (and ``output/events.jsonl``); everything else Ray or the
libraries print goes to stderr. The final model travels back as the last Ray checkpoint and is
copied into ``output/`` with ``result.json``, as the local worker leaves it.

Exit codes as ``p2m_worker``: 0 done, 1 training error, 2 invalid config/data or unreachable
cluster, 3 missing packages, 130 cancelled.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback

from .config import ConfigError, load_training_config_or_report, read_examples
from .deps import ModelLoadError, load_hint, missing_packages, offline_for_local, report_missing
from .lock import run_locked
from .protocol import EventWriter

RAY_REQUIREMENTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements-ray.txt")
RAY_INSTALL_COMMAND = f'prompt2model setup --with ray (or: pip install -r "{RAY_REQUIREMENTS}")'
FINAL_MARKER = "p2m-final.json"
# Ray Train's name for the Hugging Face checkpoint inside a reported checkpoint (RayTrainReportCallback).
HF_CHECKPOINT = "checkpoint"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="p2m_worker.ray_train", description="prompt2model training under Ray Train")
    parser.add_argument("--config", required=True, help="job.json written by the prompt2model trainer")
    parser.add_argument("--workers", type=int, default=2, help="Ray Train workers (data-parallel processes)")
    parser.add_argument("--gpus-per-worker", type=float, default=0, help="GPUs per worker (0: CPU, gloo)")
    parser.add_argument("--cpus-per-worker", type=float, default=1, help="CPUs per worker")
    parser.add_argument("--address", default=None, help="cluster to join: auto, ray://host:10001, host:6379; default: start a local cluster for the job")
    parser.add_argument("--storage", default=None, help="where Ray Train keeps checkpoints (default output/ray in the job folder)")
    options = parser.parse_args(argv)
    if options.workers < 1:
        parser.error("--workers must be at least 1")
    if options.gpus_per_worker < 0 or options.cpus_per_worker <= 0:
        parser.error("--gpus-per-worker must be 0 or more and --cpus-per-worker more than 0")
    return options


def protocol_stream():
    """The protocol owns stdout: a private copy of it carries the events, and file descriptor 1
    becomes stderr, so whatever Ray or a library prints (banners, progress tables, worker logs
    forwarded to the driver) cannot interleave with an event line."""
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    return protocol


def cluster_label(options) -> str:
    each = f"{options.gpus_per_worker:g} GPU" if options.gpus_per_worker > 0 else f"{options.cpus_per_worker:g} CPU"
    where = f"Ray cluster at {options.address}" if options.address else "a local Ray cluster started for the job"
    return f"{where}: {options.workers} worker{'s' if options.workers != 1 else ''} × {each} ({'nccl' if options.gpus_per_worker > 0 else 'gloo'})"


def main(argv=None) -> int:
    options = parse_args(argv)
    stream = protocol_stream()
    events = EventWriter(stream=stream, enabled=True)
    config = load_training_config_or_report(options.config, events)
    if config is None:
        return 2
    events = EventWriter(stream=stream, log_path=os.path.join(config.output_dir, "events.jsonl"), enabled=True)
    try:
        train_rows = read_examples(config.train_path)
        eval_rows = read_examples(config.validation_path) if config.validation_path else []
    except (ConfigError, OSError) as error:
        events.emit("error", message=str(error), code="invalid-data")
        return 2
    if not train_rows:
        events.emit("error", message=f"{config.train_path} has no examples", code="invalid-data")
        return 2
    missing = missing_packages()
    if missing:
        report_missing(events, missing)
        return 3
    if missing_packages(names={"ray": "ray"}):
        events.emit("error", message=f"Ray is not installed in {sys.executable}", code="missing-dependency", install=RAY_INSTALL_COMMAND)
        return 3
    offline_for_local(config.base_model)
    try:
        return run_locked(config.output_dir, events, lambda: run_job(config, options, events, train_rows, eval_rows))
    finally:
        events.close()


def init_cluster(options, events):
    """Joins --address, or starts a small local cluster (no dashboard, a small object store)."""
    import ray

    if options.address:
        # The cluster's nodes import the worker package from here (they need the training stack themselves).
        return ray.init(address=options.address, runtime_env={"py_modules": [os.path.dirname(os.path.abspath(__file__))]}, log_to_driver=True)
    # A cluster for one job: none of Ray Train's optional helper actors (each is one more Python
    # process to start on a small machine), unless the user asked for them.
    for name in ("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "RAY_TRAIN_METRICS_ENABLED"):
        os.environ.setdefault(name, "0")
    cpus = max(1, int(round(options.workers * options.cpus_per_worker)))
    gpus = options.workers * options.gpus_per_worker
    return ray.init(
        num_cpus=cpus,
        **({"num_gpus": int(round(gpus))} if gpus > 0 else {}),
        include_dashboard=False,
        object_store_memory=int(os.environ.get("P2M_RAY_OBJECT_STORE_BYTES", str(100 * 1024 * 1024))),
        log_to_driver=True,
    )


def run_job(config, options, events, train_rows, eval_rows) -> int:
    # No usage report leaves the machine unless the user turned it on.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    label = cluster_label(options)
    events.emit("log", level="info", message=f"starting Ray Train on {label}")
    try:
        init_cluster(options, events)
    except Exception as error:  # noqa: BLE001 - an unreachable cluster is a configuration error
        where = options.address or "a local cluster"
        events.emit(
            "error",
            message=f"cannot reach the Ray cluster ({where}): {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            code="ray-unreachable",
            hint="Check the address (ray://<head>:10001 for Ray Client, auto on a cluster node) and that the cluster is up (`ray status`), or leave the address out to start a local cluster.",
        )
        return 2
    try:
        return _fit(config, options, events, train_rows, eval_rows, label)
    finally:
        ray.shutdown()


class _Channel:
    """One small Ray actor between the driver and the workers: rank 0 puts its event lines, the
    driver takes them; the driver sets the stop request, the workers read it. (One actor, not a
    queue and a flag: each actor is a Python process to start.)"""

    def __init__(self):
        self.lines = []
        self.stop_requested = False

    def put(self, line):
        self.lines.append(line)

    def take(self):
        lines, self.lines = self.lines, []
        return lines

    def request_stop(self):
        self.stop_requested = True

    def stopped(self):
        return self.stop_requested


class _Relay:
    """Carries rank 0's event lines from the channel to the protocol stream, in a driver thread."""

    def __init__(self, channel, events):
        self.channel = channel
        self.events = events
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import ray

        while True:
            finishing = self.done.is_set()
            try:
                lines = ray.get(self.channel.take.remote(), timeout=30)
            except Exception:  # noqa: BLE001 - the actor is gone: the cluster is shutting down
                return
            for line in lines:
                payload = json.loads(line)
                if payload.get("type") == "error":
                    self.error = payload
                self.events.stream.write(line + "\n")
                self.events.stream.flush()
                if self.events.log:
                    self.events.log.write(line + "\n")
                    self.events.log.flush()
            if finishing:
                return
            self.done.wait(0.2)

    def drain(self):
        self.done.set()
        self.thread.join(timeout=30)


def _fit(config, options, events, train_rows, eval_rows, label) -> int:
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer
    channel = ray.remote(num_cpus=0)(_Channel).remote()
    relay = _Relay(channel, events)
    storage = options.storage or os.path.join(config.output_dir, "ray")
    if not options.storage and options.address:
        events.emit("log", level="warn", message=f"checkpoints go to {storage}: on a cluster of several machines every node must reach it (pass a shared path or a bucket such as s3://...)")
    # The run is named after the job folder: the same job finds its checkpoints again on a rerun.
    run_name = os.path.basename(os.path.dirname(os.path.abspath(config.output_dir))) or "p2m-job"
    gpu = options.gpus_per_worker > 0
    resources = {"CPU": options.cpus_per_worker, **({"GPU": options.gpus_per_worker} if gpu else {})}
    trainer = TorchTrainer(
        _train_worker,
        train_loop_config={
            "config": config,
            "train_rows": train_rows,
            "eval_rows": eval_rows,
            "channel": channel,
            "label": label,
        },
        scaling_config=ScalingConfig(num_workers=options.workers, use_gpu=gpu, resources_per_worker=resources),
        torch_config=TorchConfig(backend="nccl" if gpu else "gloo"),
        run_config=RunConfig(
            name=run_name,
            storage_path=storage,
            checkpoint_config=CheckpointConfig(num_to_keep=2),
            failure_config=FailureConfig(max_failures=0),
        ),
    )

    stopping = {"requested": False, "relayed": False}

    def request_stop(signum, _frame):
        # Flags only: the loop below reports the stop and relays it to the workers. An event written
        # from here could land inside the main thread's own write of one.
        if not thread.is_alive():
            return  # training is over and Ray is shutting down
        if stopping["requested"]:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now
            return
        stopping["requested"] = True

    # fit() runs in a thread: then Ray Train registers no SIGINT handler of its own (it would abort
    # the run without a checkpoint), and this thread stays free to take signals.
    outcome = {}

    def fit():
        try:
            outcome["result"] = trainer.fit()
        except BaseException as error:  # noqa: BLE001 - reported below
            outcome["error"] = error

    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        while thread.is_alive():
            thread.join(timeout=0.5)
            if stopping["requested"] and not stopping["relayed"]:
                stopping["relayed"] = True
                events.emit("log", level="warn", message="stop requested: saving a checkpoint at the next step")
                channel.request_stop.remote()
    except KeyboardInterrupt:
        relay.drain()
        events.emit("error", message="cancelled", cancelled=True)
        return 130
    relay.drain()

    error = outcome.get("error")
    if error is not None:
        if relay.error is not None:
            # Rank 0 already reported it (with its code and hint).
            return 2 if relay.error.get("code") == "model-load" else 1
        events.emit("error", message=f"Ray Train failed: {type(error).__name__}: {error}", traceback=traceback.format_exc(limit=8))
        return 1
    if stopping["requested"]:
        events.emit("error", message="cancelled", cancelled=True)
        return 130
    result = outcome["result"]
    output = _collect_final(result.checkpoint, config.output_dir)
    if output is None:
        events.emit("error", message="Ray Train finished without the final model checkpoint", hint="Rerun the same command: the job resumes from its last checkpoint.")
        return 1
    output["metrics"]["rayWorkers"] = options.workers
    from .train import write_result

    write_result(config.output_dir, output)
    events.emit("done", metrics=output["metrics"], trainedOn=label)
    return 0


def _collect_final(checkpoint, output_dir):
    """Copies the model folders of the final checkpoint into output/; returns result.json's content."""
    if checkpoint is None:
        return None
    scratch = tempfile.mkdtemp(prefix="p2m-ray-final-", dir=output_dir)
    try:
        checkpoint.to_directory(scratch)
        marker = os.path.join(scratch, FINAL_MARKER)
        if not os.path.isfile(marker):
            return None
        with open(marker, encoding="utf-8") as handle:
            output = json.load(handle)
        for key in ("adapter", "merged", "model"):
            name = output.get(key)
            if isinstance(name, str) and os.path.isdir(os.path.join(scratch, name)):
                target = os.path.join(output_dir, name)
                shutil.rmtree(target, ignore_errors=True)
                shutil.move(os.path.join(scratch, name), target)
        return output
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _RemoteStopFlag:
    """The worker's StopFlag: asks the driver's channel, at most once a second."""

    def __init__(self, channel):
        self.channel = channel
        self.cached = False
        self.checked = 0.0

    @property
    def requested(self):
        now = time.monotonic()
        if not self.cached and now - self.checked >= 1.0:
            import ray

            self.checked = now
            try:
                self.cached = bool(ray.get(self.channel.stopped.remote(), timeout=5))
            except Exception:  # noqa: BLE001 - a slow answer is asked again next time
                pass
        return self.cached

    @requested.setter
    def requested(self, value):
        self.cached = bool(value)


class _ChannelStream:
    """A text stream whose lines go to the driver through the channel."""

    def __init__(self, channel):
        self.channel = channel
        self.buffer = ""

    def write(self, text):
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            if line:
                self.channel.put.remote(line)

    def flush(self):
        pass


def _train_worker(loop_config):
    """One Ray Train worker: the local worker's training, placed by Ray (runs on every rank)."""
    import ray.train
    from ray.train.huggingface.transformers import RayTrainReportCallback, prepare_trainer

    from .train import Placement, run

    config = loop_config["config"]
    context = ray.train.get_context()
    rank = context.get_world_rank()
    events = EventWriter(stream=_ChannelStream(loop_config["channel"]), enabled=rank == 0)
    offline_for_local(config.base_model)
    scratch = tempfile.mkdtemp(prefix="p2m-ray-worker-")
    try:
        resume_from = None
        checkpoint = ray.train.get_checkpoint()
        if checkpoint is not None:
            restored = os.path.join(scratch, "restored")
            checkpoint.to_directory(restored)
            if os.path.isfile(os.path.join(restored, FINAL_MARKER)):
                # Done before, but the driver died before copying the model out: hand it over again.
                ray.train.report({"final": 1}, checkpoint=ray.train.Checkpoint.from_directory(restored) if rank == 0 else None)
                return
            resume_from = os.path.join(restored, HF_CHECKPOINT)
            events.emit("log", level="info", message=f"resuming from the Ray checkpoint {checkpoint.path}")

        class ReportCheckpoint(RayTrainReportCallback):
            """Reports the Trainer's checkpoint to Ray Train (every rank), then tells the protocol
            where it is persisted once Ray Train has registered it (so a kill after the event resumes)."""

            def on_save(self, args, state, control, **kwargs):
                super().on_save(args, state, control, **kwargs)
                if rank == 0:
                    reported = ray.train.get_all_reported_checkpoints(timeout_s=60)
                    path = reported[-1].checkpoint.path if reported else None
                    events.emit("checkpoint", step=state.global_step, path=path, persisted=True)

        model_dir = os.path.join(scratch, "final")
        placement = Placement(
            train_rows=loop_config["train_rows"],
            eval_rows=loop_config["eval_rows"],
            checkpoint_dir=os.path.join(scratch, "checkpoints"),
            model_dir=model_dir,
            resume_from=resume_from,
            prepare=prepare_trainer,
            callbacks=[ReportCheckpoint()],
            start_fields={"device": loop_config["label"], "backend": "ray"},
        )
        try:
            output = run(config, events, _RemoteStopFlag(loop_config["channel"]), placement)
        except ModelLoadError as error:
            cause = error.__cause__ or error
            events.emit("error", message=f"Cannot load {config.base_model}: {type(cause).__name__}: {cause}", code="model-load", hint=load_hint(config.base_model))
            raise
        except Exception as error:
            from .__main__ import hint_for

            events.emit("error", message=f"{type(error).__name__}: {error}", hint=hint_for(error), traceback=traceback.format_exc(limit=8))
            raise
        if output is None:
            return  # stopped: the checkpoint is saved and reported
        final = None
        if rank == 0:
            os.makedirs(model_dir, exist_ok=True)
            with open(os.path.join(model_dir, FINAL_MARKER), "w", encoding="utf-8") as handle:
                json.dump(output, handle)
            final = ray.train.Checkpoint.from_directory(model_dir)
        ray.train.report({"final": 1}, checkpoint=final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

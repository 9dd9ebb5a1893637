"""job.json: the job spec written by the TypeScript trainer (camelCase, paths relative to the file)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from . import PROTOCOL_VERSION
from .threads import choose_threads


class ConfigError(ValueError):
    """job.json is missing fields or has values the worker cannot use."""


@dataclass
class LoraSettings:
    r: int = 8
    alpha: float = 16
    dropout: float = 0.05
    target_modules: Optional[list] = None


@dataclass
class JobConfig:
    base_model: str
    train_path: str
    output_dir: str
    validation_path: Optional[str] = None
    architecture: str = "unknown"
    method: str = "lora"
    lora: LoraSettings = field(default_factory=LoraSettings)
    epochs: float = 3
    learning_rate: float = 3e-4
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_source_length: int = 512
    max_target_length: int = 128
    seed: int = 42
    precision: str = "bf16"
    eval_each_epoch: bool = True
    early_stopping_patience: int = 2
    instruction: str = ""
    resume: bool = True
    save_merged: bool = True
    # CPU threads for torch; None: P2M_THREADS, else chosen from the usable cores (threads.py).
    threads: Optional[int] = None


def _number(job: dict, key: str, default: Any, kind: type, errors: list, minimum: float | None = None) -> Any:
    value = job.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and int(value) != value):
        errors.append(f"{key}: expected {'an integer' if kind is int else 'a number'}, got {value!r}")
        return default
    if minimum is not None and value < minimum:
        errors.append(f"{key}: must be at least {minimum}, got {value!r}")
    return kind(value)


def parse_config(raw: dict, base_dir: str = ".") -> JobConfig:
    """Validates job.json (already parsed) and resolves its paths against ``base_dir``."""
    if not isinstance(raw, dict):
        raise ConfigError("job.json must hold a JSON object")
    version = raw.get("protocolVersion", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ConfigError(f"job.json protocolVersion {version} is not supported (this worker speaks {PROTOCOL_VERSION}); update the worker")
    job = raw.get("job")
    if not isinstance(job, dict):
        raise ConfigError("job.json has no 'job' object")
    errors: list = []
    base_model = job.get("baseModel")
    if not isinstance(base_model, str) or not base_model:
        errors.append("baseModel: required")
    data = job.get("data") or {}
    train = data.get("train") if isinstance(data, dict) else None
    if not isinstance(train, str) or not train:
        errors.append("data.train: required")
    validation = data.get("validation") if isinstance(data, dict) else None
    method = job.get("method", "lora")
    if method not in ("lora", "full"):
        errors.append(f"method: expected lora or full, got {method!r}")
    precision = job.get("precision", "bf16")
    if precision not in ("bf16", "fp16", "fp32"):
        errors.append(f"precision: expected bf16, fp16 or fp32, got {precision!r}")
    architecture = job.get("architecture", "unknown")
    if architecture not in ("encoder-decoder", "decoder-only", "encoder-only", "unknown"):
        errors.append(f"architecture: unknown value {architecture!r}")
    lora_raw = job.get("lora") or {}
    targets = lora_raw.get("targetModules")
    if targets is not None and (not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets)):
        errors.append("lora.targetModules: expected a non-empty list of module names")
    lora = LoraSettings(
        r=_number(lora_raw, "r", 8, int, errors, 1),
        alpha=_number(lora_raw, "alpha", 16, float, errors, 0),
        dropout=_number(lora_raw, "dropout", 0.05, float, errors, 0),
        target_modules=targets,
    )
    config = JobConfig(
        base_model=base_model if isinstance(base_model, str) else "",
        train_path=_resolve(base_dir, train) if isinstance(train, str) else "",
        validation_path=_resolve(base_dir, validation) if isinstance(validation, str) and validation else None,
        output_dir=_resolve(base_dir, raw.get("outputDir", "output")),
        architecture=architecture,
        method=method,
        lora=lora,
        epochs=_number(job, "epochs", 3, float, errors, 0),
        learning_rate=_number(job, "learningRate", 3e-4, float, errors, 0),
        batch_size=_number(job, "batchSize", 8, int, errors, 1),
        gradient_accumulation_steps=_number(job, "gradientAccumulationSteps", 1, int, errors, 1),
        max_source_length=_number(job, "maxSourceLength", 512, int, errors, 1),
        max_target_length=_number(job, "maxTargetLength", 128, int, errors, 1),
        seed=_number(job, "seed", 42, int, errors),
        precision=precision,
        eval_each_epoch=bool(job.get("evalEachEpoch", True)),
        early_stopping_patience=_number(job, "earlyStoppingPatience", 2, int, errors, 0),
        instruction=job.get("instruction", "") if isinstance(job.get("instruction", ""), str) else "",
        resume=bool(raw.get("resume", True)),
        save_merged=bool(raw.get("saveMerged", True)),
        threads=_number(job, "threads", None, int, errors, 1) if job.get("threads") is not None else None,
    )
    if config.epochs <= 0:
        errors.append("epochs: must be positive")
    if errors:
        raise ConfigError("invalid job.json: " + "; ".join(errors))
    return config


def load_config(path: str) -> JobConfig:
    with open(path, encoding="utf-8") as handle:
        try:
            raw = json.load(handle)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path} is not valid JSON: {error}") from error
    return parse_config(raw, os.path.dirname(os.path.abspath(path)))


def load_config_or_report(path: str, events) -> Optional[JobConfig]:
    """The job's config, or None once an `invalid-config` error event says why (the caller exits 2)."""
    try:
        return load_config(path)
    except (ConfigError, OSError) as error:
        events.emit("error", message=str(error), code="invalid-config")
        return None


def load_training_config_or_report(path: str, events) -> Optional[JobConfig]:
    """`load_config_or_report`, then the thread count the job and P2M_THREADS ask for checked (the
    training entry points, local and Ray): None once an `invalid-config` error event says why."""
    config = load_config_or_report(path, events)
    if config is None:
        return None
    try:
        choose_threads(config.threads)
    except ValueError as error:
        events.emit("error", message=str(error), code="invalid-config")
        return None
    return config


def _resolve(base_dir: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def read_examples(path: str) -> list:
    """Rows of a JSON Lines file of {input, output}; a bad row is an error naming its line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{path} line {number}: not valid JSON ({error})") from error
            if not isinstance(row, dict) or not isinstance(row.get("input"), str) or not isinstance(row.get("output"), str):
                raise ConfigError(f'{path} line {number}: expected {{"input": "...", "output": "..."}}')
            rows.append({"input": row["input"], "output": row["output"]})
    return rows

"""Checks for the training stack before anything heavy is imported."""

from __future__ import annotations

import importlib.util
import os
import sys

REQUIRED = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate"}
# The pinned stack `prompt2model setup` installs (CPU variant; requirements-cuda.txt beside it for GPUs).
REQUIREMENTS_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements-cpu.txt")
INSTALL_COMMAND = f'prompt2model setup (or: pip install -r "{REQUIREMENTS_FILE}")'


def missing_packages(find_spec=importlib.util.find_spec, names=None) -> list:
    """Import names of the required packages (default: the training stack) that are not installed."""
    return [name for name in (REQUIRED if names is None else names) if find_spec(name) is None]


def install_command(missing: list) -> str:
    """A pip command that installs what is missing (the whole stack, pinned to versions that work together)."""
    return INSTALL_COMMAND if missing else ""


def report_missing(events, missing: list) -> None:
    """The protocol's error for missing packages; the TypeScript side shows `install` as the fix."""
    events.emit(
        "error",
        message=f"Python packages not installed in {sys.executable}: {', '.join(missing)}",
        code="missing-dependency",
        install=install_command(missing),
    )


def is_local_path(reference) -> bool:
    """Whether a model reference names a folder on this machine (not a Hub id)."""
    return isinstance(reference, str) and (os.path.isdir(reference) or reference.startswith(("/", "./", "../", "~")))


def offline_for_local(*references) -> None:
    """Local folders need no Hub: with every model reference local, transformers and
    huggingface_hub run offline, so a missing file fails at once instead of after Hub retries."""
    present = [reference for reference in references if reference]
    if present and all(is_local_path(reference) for reference in present):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class ModelLoadError(Exception):
    """The base model or tokenizer could not be loaded: nothing was trained, so nothing resumes."""


def load_hint(reference: str) -> str:
    if is_local_path(reference):
        return f"Check the model folder {reference}: it needs config.json, the weights (model.safetensors) and the tokenizer files."
    return f"Check the model id {reference!r} (a Hugging Face Hub id such as google/flan-t5-small, or a local folder such as ./my-model) and the network; gated models need HF_TOKEN."

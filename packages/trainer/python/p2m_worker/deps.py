"""Checks for the training stack before anything heavy is imported."""

from __future__ import annotations

import importlib.util
import sys

REQUIRED = {"torch": "torch", "transformers": "transformers", "peft": "peft", "accelerate": "accelerate"}
INSTALL_COMMAND = 'pip install "torch>=2.1" "transformers>=4.40" "peft>=0.10" accelerate sentencepiece'


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

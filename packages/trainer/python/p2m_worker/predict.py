"""Predict mode: ``python -m p2m_worker.predict --model DIR --input inputs.jsonl --output predictions.jsonl``.

Runs a model the worker trained (the merged copy, a full fine-tune, or base model + LoRA adapter)
over already-textualised prompts with greedy decoding, in batches. It speaks the training worker's
protocol on stdout (one JSON object a line): ``start`` (totalSteps = number of inputs, model,
architecture, precision, device), ``step`` after each batch (step = inputs done so far), ``log``,
``done`` (count, seconds) and ``error`` (``code: 'missing-dependency'`` with ``install`` when torch or
transformers are missing, ``code: 'invalid-input'`` for bad arguments or input files).

Input: JSON Lines, each line a JSON string (the prompt) or an object with a ``prompt`` string.
Output: JSON Lines, one ``{"index", "output", "latencyMs"}`` per input, in input order, written
batch by batch; ``latencyMs`` is the batch's generation time divided by its size.

Exit codes: 0 done, 1 generation error, 2 invalid arguments or input, 3 missing packages, 130 stopped.
This module imports nothing heavy: the generation itself is in ``generate``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .deps import missing_packages, offline_for_local, report_missing
from .protocol import EventWriter, run_until_done

PREDICT_REQUIRED = ("torch", "transformers")


class InputError(ValueError):
    """The input file or the model folder cannot be used."""


def read_prompts(path: str) -> list:
    """Prompts of a JSON Lines file: each line a JSON string or an object with a ``prompt`` string."""
    prompts = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path} line {number}: not valid JSON ({error})") from error
            if isinstance(value, dict):
                value = value.get("prompt")
            if not isinstance(value, str):
                raise InputError(f'{path} line {number}: expected a JSON string or {{"prompt": "..."}}')
            prompts.append(value)
    return prompts


def batches(items: list, size: int):
    """Consecutive slices of at most ``size`` items, with the index of their first item."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def _read_json(path: str):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def plan_model(model_dir: str, base_model: str | None = None, adapter_dir: str | None = None) -> dict:
    """What to load, from the folder's files (no torch needed).

    Returns ``{"model": <weights to load>, "adapter": <LoRA adapter or None>, "tokenizer": <folder>}``.
    A folder with a ``config.json`` is a complete model (the merged copy or a full fine-tune); a
    job's ``output/`` folder stands for the model its ``result.json`` names. A
    folder with only ``adapter_config.json`` is a LoRA adapter: its base is ``base_model`` when given,
    else the adapter's ``base_model_name_or_path``. An explicit ``adapter_dir`` is applied on top
    of ``model_dir``. The tokenizer comes from the adapter folder when it holds one (the worker saves
    it there), else from the model.
    """
    if adapter_dir:
        return {"model": model_dir, "adapter": adapter_dir, "tokenizer": adapter_dir if _has_tokenizer(adapter_dir) else model_dir}
    if not os.path.isdir(model_dir):
        if model_dir.startswith(("/", "./", "../", "~")):
            raise InputError(f"{model_dir} does not exist (expected a model folder)")
        # A Hub id: transformers decides (and explains) when loading.
        return {"model": model_dir, "adapter": None, "tokenizer": model_dir}
    if os.path.isfile(os.path.join(model_dir, "config.json")):
        return {"model": model_dir, "adapter": None, "tokenizer": model_dir}
    result_file = os.path.join(model_dir, "result.json")
    if os.path.isfile(result_file):
        # A training job's output/ folder: what its result.json names (the merged copy first).
        result = _read_json(result_file)
        chosen = result.get("merged") or result.get("model") if isinstance(result, dict) else None
        if not isinstance(chosen, str) or not chosen:
            raise InputError(f"{result_file} names no model")
        return plan_model(os.path.join(model_dir, chosen), base_model)
    adapter_config = os.path.join(model_dir, "adapter_config.json")
    if os.path.isfile(adapter_config):
        base = base_model or _read_json(adapter_config).get("base_model_name_or_path")
        if not isinstance(base, str) or not base:
            raise InputError(f"{model_dir} is a LoRA adapter without a base model; pass --base-model")
        return {"model": base, "adapter": model_dir, "tokenizer": model_dir if _has_tokenizer(model_dir) else base}
    raise InputError(f"{model_dir} holds neither a model (config.json) nor a LoRA adapter (adapter_config.json)")


def _has_tokenizer(folder: str) -> bool:
    return any(os.path.isfile(os.path.join(folder, name)) for name in ("tokenizer.json", "tokenizer_config.json", "spiece.model", "vocab.json"))


def new_tokens(sequences, prompt_width: int) -> list:
    """Decoder-only generation returns prompt + continuation (prompts left-padded to one width):
    keep only the continuation, the tokens after the prompt."""
    return [list(sequence[prompt_width:]) for sequence in sequences]


def required_packages(adapter) -> list:
    return list(PREDICT_REQUIRED) + (["peft"] if adapter else [])


def prediction_line(index: int, output: str, latency_ms: float) -> str:
    return json.dumps({"index": index, "output": output, "latencyMs": round(latency_ms, 3)}, ensure_ascii=False)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="p2m_worker.predict", description="prompt2model prediction worker")
    parser.add_argument("--model", required=True, help="model folder (merged copy or full fine-tune), LoRA adapter folder, or Hub id")
    parser.add_argument("--input", required=True, help="JSON Lines of textualised prompts")
    parser.add_argument("--output", required=True, help="JSON Lines of predictions to write")
    parser.add_argument("--adapter", help="LoRA adapter folder applied on top of --model")
    parser.add_argument("--base-model", help="base model of an adapter-only --model (default: the adapter's base_model_name_or_path)")
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the model's or the adapter's)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--max-source-length", type=int, default=512, help="prompt tokens kept (decoder-only keeps the end)")
    parser.add_argument("--precision", choices=("auto", "bf16", "fp16", "fp32"), default="auto")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = parse_args(argv)
    events = EventWriter()
    try:
        if options.batch_size < 1 or options.max_new_tokens < 1 or options.max_source_length < 1:
            raise InputError("--batch-size, --max-new-tokens and --max-source-length must be at least 1")
        prompts = read_prompts(options.input)
        plan = plan_model(options.model, options.base_model, options.adapter)
        if options.tokenizer:
            plan["tokenizer"] = options.tokenizer
    except (InputError, OSError) as error:
        events.emit("error", message=str(error), code="invalid-input")
        return 2

    offline_for_local(plan["model"], plan.get("adapter"), plan.get("tokenizer"))
    missing = missing_packages(names=required_packages(plan["adapter"]))
    if missing:
        report_missing(events, missing)
        return 3

    def work():
        from .threads import apply_threads

        apply_threads()
        from .generate import run

        return run(plan, prompts, options, events)

    return run_until_done(events, work, _hint_for)


def _hint_for(error: BaseException):
    text = str(error).lower()
    if "out of memory" in text:
        return "Lower the batch size (--batch-size) or --max-source-length."
    return None


if __name__ == "__main__":
    sys.exit(main())

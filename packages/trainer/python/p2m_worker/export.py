"""Export mode: ``python -m p2m_worker.export --model DIR --out DIR [--quantize q8]``.

Writes a trained model (the merged copy, a full fine-tune, a job's ``output/`` folder, or base model +
LoRA adapter) in the layout transformers.js loads from a local folder::

    OUT/config.json  generation_config.json  tokenizer.json  tokenizer_config.json
    OUT/onnx/encoder_model.onnx + decoder_model_merged.onnx     (encoder-decoders)
    OUT/onnx/model.onnx                                         (decoder-only)
    OUT/onnx/*_quantized.onnx                                   (with --quantize q8)

with the key/value cache as transformers.js 4.x feeds it (``past_key_values.N.key`` in,
``present.N.key`` out; a merged decoder picks its branch with ``use_cache_branch``). An export
without the cache loads but is slow or wrong, so there is no option to leave it out.

It speaks the worker protocol on stdout: ``start``, ``step`` per stage, ``log``, ``done`` (files with
their sizes, seconds) and ``error``. Exit codes: 0 done, 1 export error, 2 invalid input, 3 missing
packages, 130 stopped. This module imports nothing heavy: the export itself is in ``onnx_export``.
"""

from __future__ import annotations

import argparse
import sys

from .deps import missing_packages, offline_for_local, report_missing
from .predict import InputError, plan_model
from .protocol import EventWriter, run_until_done

EXPORT_REQUIRED = ("torch", "transformers", "onnx", "onnxscript")
QUANTIZE_REQUIRED = ("onnxruntime",)


def required_packages(adapter, quantize) -> list:
    return list(EXPORT_REQUIRED) + (["peft"] if adapter else []) + (list(QUANTIZE_REQUIRED) if quantize else [])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="p2m_worker.export", description="prompt2model ONNX export (transformers.js layout)")
    parser.add_argument("--model", required=True, help="model folder (merged copy, full fine-tune, job output/ folder) or LoRA adapter folder")
    parser.add_argument("--out", required=True, help="folder to write (config, tokenizer, onnx/)")
    parser.add_argument("--base-model", help="base model of an adapter-only --model")
    parser.add_argument("--tokenizer", help="tokenizer folder (default: the model's)")
    parser.add_argument("--quantize", choices=("q8",), help="also write onnxruntime dynamic int8 weights (*_quantized.onnx)")
    parser.add_argument("--opset", type=int, default=18)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = parse_args(argv)
    events = EventWriter()
    try:
        plan = plan_model(options.model, options.base_model)
        if options.tokenizer:
            plan["tokenizer"] = options.tokenizer
    except (InputError, OSError) as error:
        events.emit("error", message=str(error), code="invalid-input")
        return 2
    offline_for_local(plan["model"], plan.get("adapter"), plan.get("tokenizer"))
    missing = missing_packages(names=required_packages(plan["adapter"], options.quantize))
    if missing:
        report_missing(events, missing)
        return 3

    def work():
        from .threads import apply_threads

        apply_threads()
        from .onnx_export import run

        return run(plan, options, events)

    return run_until_done(events, work)


if __name__ == "__main__":
    sys.exit(main())

"""Batched greedy generation for predict mode. Only this module (of predict) imports torch/transformers;
``predict`` checks they exist first."""

from __future__ import annotations

import os
import time

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

from .predict import batches, new_tokens, prediction_line
from .protocol import EventWriter


def resolve_device(requested: str) -> str:
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    backend = getattr(torch.backends, "mps", None)
    if backend and backend.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(requested: str, device: str, events: EventWriter):
    """auto: bf16 on GPUs that support it, else fp16 on CUDA, fp32 elsewhere (as in training)."""
    cuda = device.startswith("cuda")
    bf16_ok = cuda and torch.cuda.is_bf16_supported()
    if requested == "auto":
        return (torch.bfloat16, "bf16") if bf16_ok else (torch.float16, "fp16") if cuda else (torch.float32, "fp32")
    if requested == "bf16" and not bf16_ok:
        fallback = (torch.float16, "fp16") if cuda else (torch.float32, "fp32")
        events.emit("log", level="warn", message=f"bf16 is not supported here; using {fallback[1]}")
        return fallback
    if requested == "fp16" and not cuda:
        events.emit("log", level="warn", message="fp16 needs a CUDA GPU; using fp32")
        return torch.float32, "fp32"
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(requested, torch.float32), requested


def _major_version(module) -> int:
    try:
        return int(module.__version__.split(".")[0])
    except (AttributeError, ValueError):
        return 4


def load(plan: dict, options, events: EventWriter):
    device = resolve_device(options.device)
    dtype, precision = resolve_dtype(options.precision, device, events)
    config = AutoConfig.from_pretrained(plan["model"])
    encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
    model_class = AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
    dtype_arg = "dtype" if _major_version(transformers) >= 5 else "torch_dtype"
    model = model_class.from_pretrained(plan["model"], **{dtype_arg: dtype})
    if plan.get("adapter"):
        from peft import PeftModel

        # Merged once here: generation then runs at the base model's speed.
        model = PeftModel.from_pretrained(model, plan["adapter"]).merge_and_unload()
    model.to(device)
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(plan["tokenizer"])
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("The tokenizer has neither a pad nor an EOS token; add one to the tokenizer files.")
        tokenizer.pad_token = tokenizer.eos_token
    if not encoder_decoder:
        # Prompts end where generation starts: pad on the left, and cut from the left (training
        # kept the end of a long prompt too).
        tokenizer.padding_side = "left"
        tokenizer.truncation_side = "left"
    return model, tokenizer, encoder_decoder, device, precision


def run(plan: dict, prompts: list, options, events: EventWriter) -> dict:
    """Generates for every prompt, writing predictions in order; returns the `done` fields."""
    started = time.perf_counter()
    model, tokenizer, encoder_decoder, device, precision = load(plan, options, events)
    load_seconds = time.perf_counter() - started
    total = len(prompts)
    events.emit(
        "start",
        totalSteps=total,
        model=plan["model"],
        adapter=plan.get("adapter"),
        architecture="encoder-decoder" if encoder_decoder else "decoder-only",
        precision=precision,
        device=torch.cuda.get_device_name(0) if device.startswith("cuda") else device,
        batchSize=options.batch_size,
        loadSeconds=load_seconds,
    )
    generate_kwargs = dict(
        max_new_tokens=options.max_new_tokens,
        do_sample=False,
        num_beams=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    os.makedirs(os.path.dirname(os.path.abspath(options.output)), exist_ok=True)
    generating = 0.0
    done = 0
    with open(options.output, "w", encoding="utf-8") as output, torch.inference_mode():
        for start, batch in batches(prompts, options.batch_size):
            batch_started = time.perf_counter()
            encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True, max_length=options.max_source_length)
            encoded = {key: value.to(device) for key, value in encoded.items()}
            sequences = model.generate(**encoded, **generate_kwargs).tolist()
            if not encoder_decoder:
                sequences = new_tokens(sequences, encoded["input_ids"].shape[1])
            texts = tokenizer.batch_decode(sequences, skip_special_tokens=True)
            seconds = time.perf_counter() - batch_started
            generating += seconds
            for offset, text in enumerate(texts):
                output.write(prediction_line(start + offset, text.strip(), seconds * 1000 / len(batch)) + "\n")
            output.flush()
            done += len(batch)
            events.emit("step", step=done, totalSteps=total, examplesPerSecond=len(batch) / max(seconds, 1e-9))
    return {"count": done, "output": options.output, "seconds": generating, "loadSeconds": load_seconds}

"""``python -m p2m_worker.probe --config job.json [--tokens-per-example N]``: which device a job will
train on, and, on a CPU, how fast: a few training steps of the job's model (built from its config,
random weights, nothing downloaded) on synthetic batches of the job's batch size and typical length.
Prints one ``done`` event: ``device``, ``gpus``, ``threads``, ``measured`` and, when measured,
``tokensPerSecond``. On a GPU nothing is measured (loading a large model is not a cheap probe);
the time estimate then keeps its assumed GPU throughput but names the GPU.
"""

from __future__ import annotations

import argparse
import sys
import time

from .config import load_config_or_report
from .protocol import EventWriter


def measure_cpu(config, tokens_per_example: int, budget_seconds: float) -> dict:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    model_config = AutoConfig.from_pretrained(config.base_model)
    encoder_decoder = bool(getattr(model_config, "is_encoder_decoder", False))
    model_class = AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
    torch.manual_seed(0)
    model = model_class.from_config(model_config)
    if config.method == "lora":
        # The same adapters as the real run (train.py), so the backward pass costs the same.
        from peft import LoraConfig, get_peft_model

        from .modules import default_target_modules

        targets = config.lora.target_modules or default_target_modules(
            getattr(model_config, "model_type", None), [name for name, _ in model.named_modules()]
        )
        model = get_peft_model(model, LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, target_modules=targets))
    model.train()
    vocabulary = max(8, int(getattr(model_config, "vocab_size", 32000)) - 1)
    batch = config.batch_size
    if encoder_decoder:
        source = max(2, min(config.max_source_length, int(tokens_per_example * 0.6)))
        target = max(2, min(config.max_target_length, tokens_per_example - source))
        inputs = {"input_ids": torch.randint(2, vocabulary, (batch, source)), "labels": torch.randint(2, vocabulary, (batch, target))}
        tokens = batch * (source + target)
    else:
        length = max(4, min(config.max_source_length + config.max_target_length, tokens_per_example))
        ids = torch.randint(2, vocabulary, (batch, length))
        inputs = {"input_ids": ids, "labels": ids}
        tokens = batch * length
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=1e-5)

    def step():
        loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # warm-up: allocations and first-call costs
    steps, started = 0, time.perf_counter()
    while steps < 2 or (steps < 8 and time.perf_counter() - started < budget_seconds):
        step()
        steps += 1
    seconds = time.perf_counter() - started
    return {"tokensPerSecond": tokens * steps / seconds, "probeSteps": steps, "secondsPerStep": seconds / steps}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="p2m_worker.probe", description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--tokens-per-example", type=int, default=64)
    parser.add_argument("--budget-seconds", type=float, default=3.0)
    options = parser.parse_args(argv)
    events = EventWriter()
    config = load_config_or_report(options.config, events)
    if config is None:
        return 2
    try:
        import torch

        from .threads import apply_threads, describe

        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            events.emit("done", device=torch.cuda.get_device_name(0), gpus=count, measured=False)
            return 0
        threads = apply_threads(config.threads)
        result = {"device": describe(threads), "gpus": 0, "threads": threads["intraOp"], "measured": False}
        try:
            result.update(measure_cpu(config, max(4, options.tokens_per_example), options.budget_seconds), measured=True)
        except Exception as error:  # noqa: BLE001 - the device is still worth reporting
            result["reason"] = f"{type(error).__name__}: {error}"
        events.emit("done", **result)
        return 0
    except Exception as error:  # noqa: BLE001 - every failure must reach the protocol
        events.emit("error", message=f"{type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

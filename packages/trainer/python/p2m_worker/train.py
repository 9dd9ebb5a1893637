"""The training itself: transformers Trainer (+ peft LoRA), reporting through the protocol.

Only this module imports torch/transformers/peft; ``__main__`` checks they exist first.
"""

from __future__ import annotations

import inspect
import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
import transformers
from torch.utils.data import Dataset
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    EarlyStoppingCallback,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)

from .config import JobConfig, read_examples
from .deps import ModelLoadError
from .features import causal_features, count_batch_tokens, latest_checkpoint, pad_batch, seq2seq_features
from .modules import default_target_modules
from .protocol import EventWriter
from .textualize import textualize
from .threads import apply_threads, describe


class StopFlag:
    """Set by the SIGINT/SIGTERM handler; the callback then reports it, checkpoints and stops at the next step."""

    def __init__(self):
        self.requested = False
        self.reported = False


@dataclass
class Placement:
    """How a distributed runner (Ray Train) places one training process; None in ``run`` is the
    local worker (data read from the job folder, checkpoints and the model in its output folder).

    ``train_rows``/``eval_rows``: the examples, already read by the driver (a remote node has no job
    folder). ``checkpoint_dir``: the Trainer's own output folder (scratch on this node).
    ``model_dir``: where the final model is saved. ``resume_from``: the checkpoint to continue from.
    ``prepare``: wraps the Trainer (ray.train.huggingface.transformers.prepare_trainer).
    ``callbacks``: run before the protocol's, so a reported checkpoint is persisted before the
    ``checkpoint`` event says so. ``start_fields``: added to the ``start`` event.
    """

    train_rows: list
    eval_rows: list
    checkpoint_dir: str
    model_dir: str
    resume_from: Optional[str] = None
    prepare: Callable = lambda trainer: trainer
    callbacks: list = field(default_factory=list)
    start_fields: dict = field(default_factory=dict)


class ListDataset(Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


class TokenCounter:
    """Counts the tokens the collator hands to the model, for tokens/second."""

    def __init__(self):
        self.tokens = 0
        self.total = 0

    def add(self, count):
        self.tokens += count
        self.total += count

    def take(self):
        count, self.tokens = self.tokens, 0
        return count


def make_collator(pad_token_id, counter, encoder_decoder):
    def collate(rows):
        batch = pad_batch(rows, pad_token_id)
        counter.add(count_batch_tokens(batch, encoder_decoder))
        return {key: torch.tensor(value, dtype=torch.long) for key, value in batch.items()}

    return collate


LOG_INTERVAL_SECONDS = 1.0


class ProtocolCallback(TrainerCallback):
    """Turns Trainer callbacks into protocol events, and honours the stop flag."""

    def __init__(self, events: EventWriter, counter: TokenCounter, stop: StopFlag, start_fields: dict):
        self.events = events
        self.counter = counter
        self.stop = stop
        self.start_fields = start_fields
        self.last_time = time.perf_counter()
        # Training throughput: tokens and seconds of optimizer steps only (evaluation and saving
        # reset the clock), so it compares across runs with different eval/save schedules.
        self.train_tokens = 0
        self.train_seconds = 0.0
        self.last_logged = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.events.emit("start", totalSteps=state.max_steps, resumedFromStep=state.global_step, **self.start_fields)
        self.counter.take()
        self.last_time = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs:
            return
        now = time.perf_counter()
        elapsed = max(now - self.last_time, 1e-9)
        tokens = self.counter.take()
        self.last_time = now
        self.train_tokens += tokens
        self.train_seconds += elapsed
        self.events.emit(
            "step",
            step=state.global_step,
            totalSteps=state.max_steps,
            loss=logs.get("loss"),
            learningRate=logs.get("learning_rate"),
            gradNorm=logs.get("grad_norm"),
            epoch=state.epoch,
            tokensPerSecond=tokens / elapsed,
        )

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.events.emit("eval", step=state.global_step, epoch=state.epoch, metrics=dict(metrics or {}))
        self.counter.take()
        self.last_time = time.perf_counter()

    def on_save(self, args, state, control, **kwargs):
        path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        self.events.emit("checkpoint", step=state.global_step, path=path)
        self.last_time = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        # Every step reports progress (a cheap line), but the loss is logged at most once per
        # LOG_INTERVAL_SECONDS (and on the first and last step): Trainer's logging reads the loss
        # and gradient norm back from the device (a sync on a GPU) and keeps a history entry each time.
        now = time.perf_counter()
        if state.global_step <= 1 or state.global_step >= state.max_steps or now - self.last_logged >= LOG_INTERVAL_SECONDS:
            control.should_log = True
            self.last_logged = now
        else:
            self.events.emit("step", step=state.global_step, totalSteps=state.max_steps, epoch=state.epoch)
        requested = self.stop.requested
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # Every rank must stop at the same step, or the next collective hangs.
            flag = torch.tensor([1 if requested else 0], device=args.device)
            torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
            requested = bool(flag.item())
        if requested:
            if not self.stop.reported:
                self.stop.reported = True
                self.events.emit("log", level="warn", message=f"stop requested: saving a checkpoint at step {state.global_step}")
            control.should_save = True
            control.should_training_stop = True


def resolve_precision(requested: str, events: EventWriter):
    """bf16 when asked and supported; fp16 on GPUs without bf16; fp32 on CPU."""
    cuda = torch.cuda.is_available()
    bf16 = requested == "bf16" and cuda and torch.cuda.is_bf16_supported()
    fp16 = cuda and (requested == "fp16" or (requested == "bf16" and not bf16))
    if requested == "bf16" and not bf16:
        events.emit("log", level="warn", message="bf16 is not supported here; using " + ("fp16" if fp16 else "fp32"))
    elif requested == "fp16" and not fp16:
        events.emit("log", level="warn", message="fp16 needs a CUDA GPU; using fp32")
    return bf16, fp16


def lora_task_type(model, architecture: str, task_types):
    """peft's seq2seq wrapper needs a generation helper that transformers 5 removed; LoRA training
    does not need the wrapper, so the generic PeftModel is used when the helper is missing."""
    if architecture == "encoder-decoder":
        return task_types.SEQ_2_SEQ_LM if hasattr(model, "_prepare_encoder_decoder_kwargs_for_generation") else None
    return task_types.CAUSAL_LM


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _major_version(module) -> int:
    try:
        return int(module.__version__.split(".")[0])
    except (AttributeError, ValueError):
        return 4


def run(config: JobConfig, events: EventWriter, stop: StopFlag, placement: Optional[Placement] = None):
    """Trains and saves; returns the result dict (written to result.json by the local worker), or
    None when stopped."""
    threads = apply_threads(config.threads)
    set_seed(config.seed)
    try:
        model_config = AutoConfig.from_pretrained(config.base_model)
        tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    except (OSError, ValueError) as error:
        raise ModelLoadError(str(error)) from error
    architecture = config.architecture
    if architecture not in ("encoder-decoder", "decoder-only"):
        architecture = "encoder-decoder" if getattr(model_config, "is_encoder_decoder", False) else "decoder-only"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError("The tokenizer has neither a pad nor an EOS token; add one to the tokenizer files.")
        tokenizer.pad_token = tokenizer.eos_token

    bf16, fp16 = resolve_precision(config.precision, events)
    # Frozen base weights can live in bf16 under LoRA (adapters stay fp32); full training keeps
    # fp32 master weights and uses autocast.
    dtype = torch.bfloat16 if (bf16 and config.method == "lora") else torch.float32
    model_class = AutoModelForSeq2SeqLM if architecture == "encoder-decoder" else AutoModelForCausalLM
    dtype_arg = "dtype" if _major_version(transformers) >= 5 else "torch_dtype"
    try:
        model = model_class.from_pretrained(config.base_model, **{dtype_arg: dtype})
    except (OSError, ValueError) as error:
        raise ModelLoadError(str(error)) from error

    target_modules = None
    if config.method == "lora":
        from peft import LoraConfig, TaskType, get_peft_model

        target_modules = config.lora.target_modules or default_target_modules(
            getattr(model_config, "model_type", None), [name for name, _ in model.named_modules()]
        )
        lora = LoraConfig(
            r=config.lora.r,
            lora_alpha=config.lora.alpha,
            lora_dropout=config.lora.dropout,
            target_modules=target_modules,
            task_type=lora_task_type(model, architecture, TaskType),
        )
        model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())

    def encode(rows):
        features = []
        for row in rows:
            text = textualize(row, config.instruction, architecture, "train", tokenizer.eos_token)
            if architecture == "encoder-decoder":
                source = tokenizer(text["source"])["input_ids"]
                target = tokenizer(text_target=text["target"])["input_ids"]
                features.append(seq2seq_features(source, target, config.max_source_length, config.max_target_length))
            else:
                prompt = tokenizer(text["source"])["input_ids"]
                target = tokenizer(text["target"], add_special_tokens=False)["input_ids"]
                features.append(causal_features(prompt, target, config.max_source_length, config.max_target_length))
        return features

    if placement is None:
        train_rows = encode(read_examples(config.train_path))
        eval_rows = encode(read_examples(config.validation_path)) if config.validation_path else []
    else:
        train_rows, eval_rows = encode(placement.train_rows), encode(placement.eval_rows)
    checkpoint_dir = placement.checkpoint_dir if placement else config.output_dir
    evaluate = bool(eval_rows) and config.eval_each_epoch
    counter = TokenCounter()

    arguments = dict(
        output_dir=checkpoint_dir,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        seed=config.seed,
        bf16=bf16,
        fp16=fp16,
        # Logging is driven by ProtocolCallback.on_step_end (time-based), not a step count.
        logging_strategy="no",
        save_strategy="epoch",
        save_total_limit=2,
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        # Without an accelerator say so explicitly: it is also what makes torchrun/accelerate on
        # CPU (gloo) run as one distributed job instead of independent copies.
        use_cpu=not (torch.cuda.is_available() or _mps_available()),
    )
    parameters = inspect.signature(TrainingArguments.__init__).parameters
    if "average_tokens_across_devices" in parameters:
        # Across several processes (torchrun, accelerate, Ray Train) the Trainer would multiply
        # each loss by the process count, expecting the model to divide by the token count of all
        # processes; models whose loss ignores that count (T5, peft-wrapped or not) then train
        # with N times the gradient and log N times the loss. Each process's mean loss, averaged
        # by DDP, is the plain data-parallel loss (measured: 2 Ray workers logged 2x the loss).
        arguments["average_tokens_across_devices"] = False
    strategy_key = "eval_strategy" if "eval_strategy" in parameters else "evaluation_strategy"
    arguments[strategy_key] = "epoch" if evaluate else "no"
    early_stopping = evaluate and config.early_stopping_patience > 0
    if early_stopping:
        arguments.update(load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False)
    args = TrainingArguments(**arguments)

    start_fields = dict(
        epochs=config.epochs,
        method=config.method,
        architecture=architecture,
        baseModel=config.base_model,
        targetModules=target_modules,
        trainableParameters=trainable,
        totalParameters=total,
        precision="bf16" if bf16 else "fp16" if fp16 else "fp32",
        device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else describe(threads),
        threads=threads,
        worldSize=args.world_size,
        trainExamples=len(train_rows),
        validationExamples=len(eval_rows),
    )
    if placement:
        start_fields.update(placement.start_fields)
    protocol = ProtocolCallback(events, counter, stop, start_fields)
    callbacks = [*(placement.callbacks if placement else []), protocol]
    if early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer_kwargs = dict(
        model=model,
        args=args,
        train_dataset=ListDataset(train_rows),
        eval_dataset=ListDataset(eval_rows) if eval_rows else None,
        data_collator=make_collator(tokenizer.pad_token_id, counter, architecture == "encoder-decoder"),
        callbacks=callbacks,
    )
    if "processing_class" in inspect.signature(Trainer.__init__).parameters:
        trainer_kwargs["processing_class"] = tokenizer
    else:
        trainer_kwargs["tokenizer"] = tokenizer
    trainer = Trainer(**trainer_kwargs)
    # With tqdm off, Trainer prints every log dict to stdout; the protocol already carries them.
    trainer.remove_callback(PrinterCallback)
    if placement:
        trainer = placement.prepare(trainer)

    if placement:
        resume_from = placement.resume_from
    else:
        resume_from = latest_checkpoint(config.output_dir) if config.resume else None
    if resume_from:
        events.emit("log", level="info", message=f"resuming from {resume_from}")
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = trainer.train(resume_from_checkpoint=resume_from)
    cpu_seconds = time.process_time() - cpu_started
    seconds = time.perf_counter() - started
    if stop.requested:
        return None

    metrics = {key: value for key, value in result.metrics.items() if isinstance(value, (int, float))}
    metrics["tokens_per_second"] = protocol.train_tokens / max(protocol.train_seconds, 1e-9)
    metrics["wall_seconds"] = seconds
    # CPU time of the training loop (all threads): steadier than wall time on a shared machine.
    metrics["train_cpu_seconds"] = cpu_seconds
    # Why training ended, for the run report: early stopping ends before the planned steps.
    metrics["global_step"] = trainer.state.global_step
    metrics["max_steps"] = trainer.state.max_steps
    metrics["stopped_early"] = 1 if early_stopping and trainer.state.global_step < trainer.state.max_steps else 0
    if torch.cuda.is_available():
        metrics["peak_gpu_memory_bytes"] = torch.cuda.max_memory_allocated()
    if eval_rows:
        # Reported as an `eval` event by the callback; with early stopping this is the best model.
        final = trainer.evaluate()
        metrics.update({key: value for key, value in final.items() if isinstance(value, (int, float))})

    output = {}
    model_root = placement.model_dir if placement else config.output_dir
    if trainer.is_world_process_zero():
        if config.method == "lora":
            adapter_dir = os.path.join(model_root, "adapter")
            model.save_pretrained(adapter_dir)
            tokenizer.save_pretrained(adapter_dir)
            output = {"model": "adapter", "adapter": "adapter", "tokenizer": "adapter"}
            if config.save_merged:
                merged_dir = os.path.join(model_root, "merged")
                merged = model.merge_and_unload()
                merged.save_pretrained(merged_dir)
                tokenizer.save_pretrained(merged_dir)
                output.update(model="merged", merged="merged", tokenizer="merged")
        else:
            model_dir = os.path.join(model_root, "model")
            trainer.save_model(model_dir)
            tokenizer.save_pretrained(model_dir)
            output = {"model": "model", "tokenizer": "model"}
        output["metrics"] = metrics
        if placement is None:
            write_result(config.output_dir, output)
    return output


def write_result(output_dir: str, result: dict) -> None:
    """result.json last, atomically: its presence means the job is done."""
    path = os.path.join(output_dir, "result.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    os.replace(tmp, path)

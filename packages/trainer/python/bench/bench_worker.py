"""GPU benchmark of the training worker on tiny models built from configs (no downloads).

    python packages/trainer/python/bench/bench_worker.py --out /tmp/p2m-bench [--epochs 3]
    python packages/trainer/python/bench/bench_worker.py --cpu --out /tmp/p2m-cpu-bench [--runs 2]

With --cpu it runs bench_worker_cpu.py instead: the worker against a plain Seq2SeqTrainer script
on one CPU thread (examples/s and the ratio), and the worker's threads against torch's defaults.

Builds a word-level tokenizer and a randomly initialised T5 (encoder-decoder) and Llama-style
causal LM, makes a toy task (add one to each digit), then for each model runs the worker
(`python -m p2m_worker`, exactly as the local backend launches it) with LoRA and with full
fine-tuning, and the same data under plain `transformers.Trainer` defaults as a baseline.
Prints a Markdown table (first/last training loss, final eval loss, tokens/second, peak GPU
memory, wall time) and writes results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, HERE)

from tiny_models import INSTRUCTION, build_llama, build_t5, toy_rows, training_texts, write_jsonl  # noqa: E402


def build_models(root: str, train_rows: list) -> dict:
    texts = training_texts(train_rows)
    return {
        "t5": build_t5(os.path.join(root, "tiny-t5"), texts, hidden=256, layers=4),
        "llama": build_llama(os.path.join(root, "tiny-llama"), texts, hidden=256, layers=4),
    }


def run_worker(job_dir: str, base_model: str, method: str, args) -> dict:
    os.makedirs(job_dir, exist_ok=True)
    config = {
        "protocolVersion": 1,
        "job": {
            "baseModel": base_model,
            "method": method,
            "epochs": args.epochs,
            "learningRate": args.lora_lr if method == "lora" else args.full_lr,
            "batchSize": args.batch_size,
            "instruction": INSTRUCTION,
            "precision": "bf16",
            "earlyStoppingPatience": 0,
            "maxSourceLength": 64,
            "maxTargetLength": 32,
            "lora": {"r": 8, "alpha": 16, "dropout": 0.05},
            "data": {"train": os.path.join(args.out, "train.jsonl"), "validation": os.path.join(args.out, "validation.jsonl")},
        },
        "outputDir": "output",
        "resume": False,
        "saveMerged": True,
    }
    with open(os.path.join(job_dir, "job.json"), "w") as handle:
        json.dump(config, handle)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "p2m_worker", "--config", "job.json"], cwd=job_dir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    events = []
    for line in done.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    if done.returncode != 0:
        raise RuntimeError(f"worker failed ({done.returncode}): {events[-1] if events else ''}\n{done.stderr[-3000:]}")
    steps = [e for e in events if e["type"] == "step"]
    final = [e for e in events if e["type"] == "eval"][-1]["metrics"]
    metrics = [e for e in events if e["type"] == "done"][-1].get("metrics", {})
    start = [e for e in events if e["type"] == "start"][0]
    return {
        "firstLoss": steps[0]["loss"],
        "lastLoss": steps[-1]["loss"],
        "evalLoss": final.get("eval_loss"),
        "tokensPerSecond": metrics.get("tokens_per_second"),
        "peakGpuMemoryMiB": (metrics.get("peak_gpu_memory_bytes") or 0) / 2**20,
        "steps": steps[-1]["step"],
        "trainableParameters": start.get("trainableParameters"),
        "totalParameters": start.get("totalParameters"),
        "precision": start.get("precision"),
        "device": start.get("device"),
        "wallSeconds": seconds,
    }


def run_baseline(base_model: str, seq2seq: bool, args) -> dict:
    """The same data under `transformers.Trainer` with its defaults (fp32, lr 5e-5, no LoRA)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, PrinterCallback, Trainer, TrainerCallback, TrainingArguments
    from p2m_worker.config import read_examples
    from p2m_worker.features import causal_features, count_batch_tokens, pad_batch, seq2seq_features
    from p2m_worker.textualize import textualize

    tokenizer = AutoTokenizer.from_pretrained(base_model)
    model = (AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM).from_pretrained(base_model)
    architecture = "encoder-decoder" if seq2seq else "decoder-only"

    def encode(path):
        rows = []
        for row in read_examples(path):
            text = textualize(row, INSTRUCTION, architecture, "train", tokenizer.eos_token)
            if seq2seq:
                rows.append(seq2seq_features(tokenizer(text["source"])["input_ids"], tokenizer(text_target=text["target"])["input_ids"], 64, 32))
            else:
                rows.append(causal_features(tokenizer(text["source"])["input_ids"], tokenizer(text["target"], add_special_tokens=False)["input_ids"], 64, 32))
        return rows

    tokens = {"count": 0}

    def collate(rows):
        batch = pad_batch(rows, tokenizer.pad_token_id)
        tokens["count"] += count_batch_tokens(batch, seq2seq)
        return {key: torch.tensor(value) for key, value in batch.items()}

    losses = []
    clock = {"last": time.perf_counter(), "tokens": 0, "seconds": 0.0}

    class Record(TrainerCallback):
        """Same throughput definition as the worker: tokens over the time of the steps themselves."""

        def on_train_begin(self, _args, state, control, **kwargs):
            tokens["count"] = 0
            clock["last"] = time.perf_counter()

        def on_log(self, _args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                now = time.perf_counter()
                clock["seconds"] += now - clock["last"]
                clock["tokens"] += tokens["count"]
                tokens["count"] = 0
                clock["last"] = now
                losses.append(logs["loss"])

    training_args = TrainingArguments(
        output_dir=os.path.join(args.out, f"baseline-{'t5' if seq2seq else 'llama'}"),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        report_to=[],
        remove_unused_columns=False,
        save_strategy="no",
        # Logging every step is instrumentation (per-step loss and throughput), not a training setting.
        logging_steps=1,
        disable_tqdm=True,
    )
    train_rows = encode(os.path.join(args.out, "train.jsonl"))
    eval_rows = encode(os.path.join(args.out, "validation.jsonl"))
    trainer = Trainer(model=model, args=training_args, train_dataset=train_rows, eval_dataset=eval_rows, data_collator=collate, callbacks=[Record()])
    trainer.remove_callback(PrinterCallback)  # keep stdout for the table
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    final = trainer.evaluate()
    return {
        "firstLoss": losses[0] if losses else None,
        "lastLoss": losses[-1] if losses else None,
        "evalLoss": final.get("eval_loss"),
        "tokensPerSecond": clock["tokens"] / max(clock["seconds"], 1e-9),
        "peakGpuMemoryMiB": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0,
        "steps": trainer.state.global_step,
        "trainableParameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "totalParameters": sum(p.numel() for p in model.parameters()),
        "precision": "fp32",
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "wallSeconds": seconds,
    }


def main() -> int:
    if "--cpu" in sys.argv[1:]:
        import bench_worker_cpu

        sys.argv.remove("--cpu")
        return bench_worker_cpu.main()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-examples", type=int, default=4000)
    parser.add_argument("--lora-lr", type=float, default=2e-3)
    parser.add_argument("--full-lr", type=float, default=5e-4)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    train_rows = toy_rows(args.train_examples, 1)
    write_jsonl(os.path.join(args.out, "train.jsonl"), train_rows)
    write_jsonl(os.path.join(args.out, "validation.jsonl"), toy_rows(200, 2))
    models = build_models(args.out, train_rows)

    results = {}
    for name, folder in models.items():
        for method in ("lora", "full"):
            key = f"{name}/{method}"
            results[key] = run_worker(os.path.join(args.out, f"job-{name}-{method}"), folder, method, args)
            print(f"{key}: {json.dumps(results[key])}", file=sys.stderr, flush=True)
        if not args.skip_baseline:
            key = f"{name}/trainer-defaults"
            results[key] = run_baseline(folder, name == "t5", args)
            print(f"{key}: {json.dumps(results[key])}", file=sys.stderr, flush=True)

    with open(os.path.join(args.out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)
    print("| run | precision | trainable / total params | first loss | last loss | eval loss | tokens/s | peak GPU MiB | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key, r in results.items():
        fmt = lambda v, spec: "n/a" if v is None else format(v, spec)  # noqa: E731
        print(
            f"| {key} | {r['precision']} | {r['trainableParameters']:,} / {r['totalParameters']:,} | {fmt(r['firstLoss'], '.3f')} | "
            f"{fmt(r['lastLoss'], '.3f')} | {fmt(r['evalLoss'], '.3f')} | {fmt(r['tokensPerSecond'], ',.0f')} | {r['peakGpuMemoryMiB']:.0f} | {r['wallSeconds']:.1f} |"
        )
    device = next(iter(results.values()))["device"] if results else "?"
    print(f"\ndevice: {device}; epochs {args.epochs}, batch {args.batch_size}, {args.train_examples} training examples")
    print("tokens/s: tokens over the optimizer steps' own time (eval and saving excluded), for both the worker and the baseline;")
    print("wall s: the whole worker process (load, tokenize, train, eval, save, merge) vs the baseline's trainer.train() alone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

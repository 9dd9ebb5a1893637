"""CPU benchmark of the training worker against a plain Seq2SeqTrainer script, in one run.

    python packages/trainer/python/bench/bench_worker_cpu.py --out /tmp/p2m-cpu-bench [--epochs 2]

Same tiny T5 (built from a config, randomly initialised, no download), same data (the toy task of
tiny_models.py), same epochs, batch size, learning rate and seed; full fine-tuning in fp32. Each
run is a fresh process:

- plain: the script a user would write: ``Seq2SeqTrainer`` with ``DataCollatorForSeq2Seq``, the
  same hyperparameters, everything else left at transformers' defaults, torch on one thread;
- worker, lean: ``python -m p2m_worker`` with evaluation off, on one thread (``P2M_THREADS=1``);
- worker, defaults: the worker as the CLI runs it (evaluation and a checkpoint each epoch, best
  model kept), on one thread;
- worker, torch's default threads (``P2M_THREADS=0``: what the worker did before it chose
  threads) and worker, threads chosen from the usable cores (no override): steps per second.

Examples/s is ``train_samples_per_second`` of ``trainer.train()`` in every run (the training loop
with its callbacks, evaluations and checkpoints; model loading and tokenising excluded on both
sides). Prints the figures, the ratios to the plain script, and the final training losses.
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

from tiny_models import INSTRUCTION, build_t5, toy_rows, training_texts, write_jsonl  # noqa: E402


def plain_script(model_dir: str, out: str, args) -> dict:
    """What a user writes with transformers alone (runs in its own process, see main)."""
    import torch

    torch.set_num_threads(1)
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    from p2m_worker.config import read_examples
    from p2m_worker.textualize import textualize

    import time as clock

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    rows = []
    for row in read_examples(os.path.join(args.out, "train.jsonl")):
        text = textualize(row, INSTRUCTION, "encoder-decoder", "train", tokenizer.eos_token)
        features = tokenizer(text["source"], max_length=64, truncation=True)
        features["labels"] = tokenizer(text_target=text["target"], max_length=32, truncation=True)["input_ids"]
        rows.append(dict(features))
    training_args = Seq2SeqTrainingArguments(
        output_dir=out,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        seed=42,
        report_to=[],
        use_cpu=True,
    )
    trainer = Seq2SeqTrainer(model=model, args=training_args, train_dataset=rows, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model))
    cpu_started = clock.process_time()
    result = trainer.train()
    cpu_seconds = clock.process_time() - cpu_started
    trainer.save_model(os.path.join(out, "model"))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {
        "examplesPerSecond": result.metrics["train_samples_per_second"],
        "stepsPerSecond": result.metrics["train_steps_per_second"],
        "examplesPerCpuSecond": len(rows) * args.epochs / cpu_seconds,
        "trainLoss": result.metrics["train_loss"],
        "lastLoggedLoss": losses[-1] if losses else None,
        "steps": trainer.state.global_step,
        "threads": torch.get_num_threads(),
    }


def worker(job_dir: str, model_dir: str, args, evaluate: bool, threads, python_dir: str = PYTHON_DIR) -> dict:
    os.makedirs(job_dir, exist_ok=True)
    config = {
        "protocolVersion": 1,
        "job": {
            "baseModel": model_dir,
            "method": "full",
            "epochs": args.epochs,
            "learningRate": args.lr,
            "batchSize": args.batch_size,
            "instruction": INSTRUCTION,
            "precision": "fp32",
            "evalEachEpoch": evaluate,
            "maxSourceLength": 64,
            "maxTargetLength": 32,
            "seed": 42,
            "data": {"train": os.path.join(args.out, "train.jsonl"), "validation": os.path.join(args.out, "validation.jsonl")},
        },
        "outputDir": "output",
        "resume": False,
    }
    with open(os.path.join(job_dir, "job.json"), "w") as handle:
        json.dump(config, handle)
    env = dict(os.environ, PYTHONPATH=python_dir, PYTHONUNBUFFERED="1")
    env.pop("P2M_THREADS", None)
    if threads is not None:
        env["P2M_THREADS"] = str(threads)
    if threads == 1:
        # A worker that predates P2M_THREADS (--baseline-worker) still gets one thread.
        env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run([sys.executable, "-m", "p2m_worker", "--config", "job.json"], cwd=job_dir, env=env, capture_output=True, text=True)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        raise RuntimeError(f"worker failed ({done.returncode}): {events[-1] if events else ''}\n{done.stderr[-3000:]}")
    metrics = [e for e in events if e["type"] == "done"][-1]["metrics"]
    start = [e for e in events if e["type"] == "start"][0]
    steps = [e for e in events if e["type"] == "step"]
    return {
        "examplesPerSecond": metrics["train_samples_per_second"],
        "stepsPerSecond": metrics["train_steps_per_second"],
        "examplesPerCpuSecond": start["trainExamples"] * args.epochs / metrics["train_cpu_seconds"] if "train_cpu_seconds" in metrics else None,
        "trainLoss": metrics["train_loss"],
        "lastLoggedLoss": steps[-1]["loss"] if steps else None,
        "steps": steps[-1]["step"] if steps else None,
        "stepEvents": len(steps),
        "threads": start.get("threads"),
        "device": start.get("device"),
    }


def in_child(kind: str, args) -> dict:
    """Runs one measurement in a fresh interpreter (nothing warmed up, threads set at start)."""
    command = [sys.executable, os.path.abspath(__file__), "--child", kind, "--out", args.out, "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--lr", str(args.lr)]
    if args.baseline_worker:
        command += ["--baseline-worker", args.baseline_worker]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=PYTHON_DIR))
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-examples", type=int, default=800)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--runs", type=int, default=1, help="repeat the one-thread comparisons, interleaved (median)")
    parser.add_argument("--baseline-worker", help="python/ folder of an earlier worker (e.g. from git archive) to run beside this one")
    parser.add_argument("--child")
    args = parser.parse_args()
    model_dir = os.path.join(args.out, "tiny-t5")
    if args.child:
        if args.child == "plain":
            result = plain_script(model_dir, os.path.join(args.out, "plain"), args)
        else:
            evaluate = args.child.endswith("-defaults")
            threads = {"-lean": 1, "-defaults": 1, "-torch-threads": 0, "-auto-threads": None}[args.child[args.child.index("-"):]]
            python_dir = args.baseline_worker if args.child.startswith("baseline") else PYTHON_DIR
            result = worker(os.path.join(args.out, args.child), model_dir, args, evaluate, threads, python_dir)
        print(json.dumps(result))
        return 0

    os.makedirs(args.out, exist_ok=True)
    train_rows = toy_rows(args.train_examples, 1)
    write_jsonl(os.path.join(args.out, "train.jsonl"), train_rows)
    write_jsonl(os.path.join(args.out, "validation.jsonl"), toy_rows(100, 2))
    build_t5(model_dir, training_texts(train_rows), hidden=128, layers=2)

    results: dict = {}
    started = time.time()
    kinds = ["plain", "worker-lean", "worker-defaults"] + (["baseline-lean", "baseline-defaults"] if args.baseline_worker else [])
    for _ in range(args.runs):
        for kind in kinds:
            results.setdefault(kind, []).append(in_child(kind, args))
            print(f"{kind}: {json.dumps(results[kind][-1])}", file=sys.stderr, flush=True)
    for kind in ("worker-torch-threads", "worker-auto-threads"):
        results[kind] = [in_child(kind, args)]
        print(f"{kind}: {json.dumps(results[kind][-1])}", file=sys.stderr, flush=True)

    with open(os.path.join(args.out, "results.json"), "w") as handle:
        json.dump(results, handle, indent=2)

    def median(kind, key):
        values = sorted(r[key] for r in results[kind] if r[key] is not None)
        return values[len(values) // 2] if values else float("nan")

    plain = median("plain", "examplesPerSecond")
    print(f"tiny T5 (d_model 128, 2+2 layers), {args.train_examples} examples x {args.epochs} epochs, batch {args.batch_size}, fp32, full fine-tuning; {args.runs} run(s), median")
    plain_cpu = median("plain", "examplesPerCpuSecond")
    print("| run | threads | examples/s | ratio to plain | examples per CPU-second | ratio to plain | steps/s | train loss |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in results:
        r = results[kind][-1]
        threads = r["threads"] if isinstance(r["threads"], int) else f"{r['threads']['intraOp']} ({r['threads']['source']})" if r["threads"] else "1 (OMP_NUM_THREADS)"
        eps = median(kind, "examplesPerSecond")
        cps = median(kind, "examplesPerCpuSecond")
        print(f"| {kind} | {threads} | {eps:.1f} | {eps / plain:.2f}x | {cps:.1f} | {cps / plain_cpu:.2f}x | {median(kind, 'stepsPerSecond'):.2f} | {r['trainLoss']:.4f} |")
    torch_default = results["worker-torch-threads"][0]["stepsPerSecond"]
    auto = results["worker-auto-threads"][0]["stepsPerSecond"]
    print(
        f"\nworker/plain (one thread), examples/s: lean {median('worker-lean', 'examplesPerSecond') / plain:.2f}x, defaults {median('worker-defaults', 'examplesPerSecond') / plain:.2f}x; "
        f"per CPU-second: lean {median('worker-lean', 'examplesPerCpuSecond') / plain_cpu:.2f}x, defaults {median('worker-defaults', 'examplesPerCpuSecond') / plain_cpu:.2f}x"
    )
    print(f"threads chosen from the usable cores vs torch's default: {auto:.2f} vs {torch_default:.2f} steps/s ({auto / torch_default:.2f}x)")
    print(f"cores: affinity {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}; {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

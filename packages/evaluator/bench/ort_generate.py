"""The reference for executor-vs-ort-python.ts: greedy generation with onnxruntime in Python.

    python ort_generate.py REQUEST.json

REQUEST: {"model": DIR, "task": "text2text-generation"|"text-generation", "prompts": [...],
"maxNewTokens": 16, "threads": 1}. Prints {"ready": true, "onnxruntime": version} once loaded,
then answers each stdin line {"batch": B, "warmup"?: true} with one line
{"ms": wall ms per example, "cpuMs": process CPU ms per example, "outputs": [...]}: one pass over
all prompts (the first 2B when warming up), so the caller can interleave it with its own passes.

The loop is the plain one a Python user writes on onnxruntime: the tokenizer from transformers
(the same tokenizer.json), one InferenceSession per graph with the given threads, numpy feeds,
each step's present.* fed back as past_key_values.*, rows cut at their first end token, the batch
stopping when every row has ended or at the token limit. Timed per pass: tokenize, generate,
decode, for all prompts in batches; wall time and this process's CPU time (every thread).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer


def session(path: str, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def empty_past(sess: ort.InferenceSession, batch: int) -> dict:
    past = {}
    for meta in sess.get_inputs():
        if meta.name.startswith("past_key_values."):
            dims = [batch if axis == 0 else (size if isinstance(size, int) else 0) for axis, size in enumerate(meta.shape)]
            past[meta.name] = np.zeros(dims, dtype=np.float32)
    return past


class Model:
    def __init__(self, folder: str, task: str, threads: int):
        with open(f"{folder}/config.json", encoding="utf-8") as handle:
            config = json.load(handle)
        try:
            with open(f"{folder}/generation_config.json", encoding="utf-8") as handle:
                generation = json.load(handle)
        except FileNotFoundError:
            generation = {}
        eos = generation.get("eos_token_id", config.get("eos_token_id"))
        self.eos = set(eos if isinstance(eos, list) else [eos])
        self.pad = generation.get("pad_token_id", config.get("pad_token_id", min(self.eos)))
        self.start = generation.get("decoder_start_token_id", config.get("decoder_start_token_id", self.pad))
        self.task = task
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        if task == "text2text-generation":
            self.encoder = session(f"{folder}/onnx/encoder_model.onnx", threads)
            self.decoder = session(f"{folder}/onnx/decoder_model_merged.onnx", threads)
        else:
            self.decoder = session(f"{folder}/onnx/model.onnx", threads)
        self.inputs = {meta.name for meta in self.decoder.get_inputs()}
        self.outputs = [meta.name for meta in self.decoder.get_outputs()]

    def generate(self, prompts: list, max_new_tokens: int) -> list:
        decoder_only = self.task == "text-generation"
        self.tokenizer.padding_side = "left" if decoder_only else "right"
        encoded = self.tokenizer(prompts, padding=True, truncation=True, return_tensors="np")
        ids = encoded["input_ids"].astype(np.int64)
        mask = encoded["attention_mask"].astype(np.int64)
        batch = ids.shape[0]
        if decoder_only:
            positions = np.cumsum(mask, axis=1) - 1
            positions[mask == 0] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "position_ids": positions, **empty_past(self.decoder, batch)}
        else:
            hidden = self.encoder.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            feeds = {
                "encoder_attention_mask": mask,
                "input_ids": np.full((batch, 1), self.start, dtype=np.int64),
                "encoder_hidden_states": hidden,
                "use_cache_branch": np.array([False]),
                **empty_past(self.decoder, batch),
            }
        feeds = {name: value for name, value in feeds.items() if name in self.inputs}
        tokens = [[] for _ in range(batch)]
        done = [False] * batch
        for step in range(max_new_tokens):
            results = dict(zip(self.outputs, self.decoder.run(None, feeds)))
            chosen = results["logits"][:, -1, :].argmax(axis=-1)
            for row in range(batch):
                if done[row]:
                    continue
                token = int(chosen[row])
                if token in self.eos:
                    done[row] = True
                else:
                    tokens[row].append(token)
            if all(done) or step + 1 >= max_new_tokens:
                break
            next_ids = np.array([[self.pad if done[row] else int(chosen[row])] for row in range(batch)], dtype=np.int64)
            feeds["input_ids"] = next_ids
            for name in list(feeds):
                # The cross-attention entries never change: keep the first step's.
                if name.startswith("past_key_values.") and (decoder_only or ".encoder." not in name or step == 0):
                    feeds[name] = results[name.replace("past_key_values.", "present.")]
            if decoder_only:
                mask = np.concatenate([mask, np.ones((batch, 1), dtype=np.int64)], axis=1)
                positions = positions[:, -1:] + 1
                feeds["attention_mask"] = mask
                if "position_ids" in feeds:
                    feeds["position_ids"] = positions
            elif "use_cache_branch" in feeds:
                feeds["use_cache_branch"] = np.array([True])
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() if row else "" for row in tokens]


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    model = Model(request["model"], request["task"], int(request["threads"]))
    prompts = request["prompts"]
    max_new_tokens = request["maxNewTokens"]
    print(json.dumps({"ready": True, "onnxruntime": ort.__version__}), flush=True)
    # One line per command: {"batch": B, "warmup": bool}; answers one timed pass over all prompts.
    for line in sys.stdin:
        command = json.loads(line)
        batch = int(command["batch"])
        chosen = prompts[: batch * 2] if command.get("warmup") else prompts
        started = time.perf_counter()
        cpu_started = time.process_time()
        outputs = []
        for start in range(0, len(chosen), batch):
            outputs += model.generate(chosen[start : start + batch], max_new_tokens)
        wall = (time.perf_counter() - started) * 1000 / len(chosen)
        cpu = (time.process_time() - cpu_started) * 1000 / len(chosen)
        print(json.dumps({"ms": wall, "cpuMs": cpu, "outputs": outputs}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Token-level features from token ids (no tokenizer or torch needed, so this is unit-tested)."""

from __future__ import annotations

import math
import os
import re

IGNORE_INDEX = -100


def causal_features(prompt_ids: list, target_ids: list, max_source_length: int, max_target_length: int) -> dict:
    """Decoder-only row: prompt + target in one sequence; labels mask the prompt with -100 so the
    loss is computed on the output only. The prompt keeps its end (closest to the answer) when cut."""
    prompt = prompt_ids[-max_source_length:] if len(prompt_ids) > max_source_length else list(prompt_ids)
    target = list(target_ids[:max_target_length])
    input_ids = prompt + target
    labels = [IGNORE_INDEX] * len(prompt) + target
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


def seq2seq_features(source_ids: list, target_ids: list, max_source_length: int, max_target_length: int) -> dict:
    """Encoder-decoder row: truncated source, and target ids as labels."""
    source = list(source_ids[:max_source_length])
    return {"input_ids": source, "attention_mask": [1] * len(source), "labels": list(target_ids[:max_target_length])}


def pad_batch(rows: list, pad_token_id: int) -> dict:
    """Right-pads a batch: inputs with pad_token_id, masks with 0, labels with -100."""
    width = max(len(r["input_ids"]) for r in rows)
    label_width = max(len(r["labels"]) for r in rows)
    batch = {"input_ids": [], "attention_mask": [], "labels": []}
    for row in rows:
        gap = width - len(row["input_ids"])
        batch["input_ids"].append(row["input_ids"] + [pad_token_id] * gap)
        batch["attention_mask"].append(row["attention_mask"] + [0] * gap)
        batch["labels"].append(row["labels"] + [IGNORE_INDEX] * (label_width - len(row["labels"])))
    return batch


def count_batch_tokens(batch: dict, encoder_decoder: bool = False) -> int:
    """Tokens that did work in a batch: attended inputs, plus the decoder's label tokens for
    encoder-decoder models (for decoder-only models the labels are part of the inputs)."""
    attended = sum(sum(mask) for mask in batch["attention_mask"])
    if not encoder_decoder:
        return attended
    return attended + sum(1 for row in batch["labels"] for token in row if token != IGNORE_INDEX)


def total_steps(examples: int, batch_size: int, accumulation: int, epochs: float, world_size: int = 1) -> int:
    per_epoch = math.ceil(examples / (batch_size * world_size * accumulation))
    return max(1, math.ceil(per_epoch * epochs))


CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def latest_checkpoint(output_dir: str):
    """The newest complete ``checkpoint-N`` folder in output_dir (one with trainer_state.json), or None."""
    if not os.path.isdir(output_dir):
        return None
    best = None
    for name in os.listdir(output_dir):
        match = CHECKPOINT.match(name)
        path = os.path.join(output_dir, name)
        if match and os.path.isfile(os.path.join(path, "trainer_state.json")):
            step = int(match.group(1))
            if best is None or step > best[0]:
                best = (step, path)
    return best[1] if best else None

"""Textualisation, identical to packages/trainer/src/textualize.ts and core's formatTrainingPrompt (a test compares them)."""

from __future__ import annotations


def format_prompt(instruction: str, example_input: str, task_id: int = 0) -> str:
    """The prompt the reference Prompt2Model trains and evaluates with."""
    return f"<task {task_id}>{instruction}\nExample:\n{example_input}\nLabel:\n"


def textualize(example: dict, instruction: str, architecture: str, split: str = "train",
               eos_token: str | None = None, task_id: int = 0) -> dict:
    """Returns {"source", "target"}.

    encoder-decoder: source = instruction + example input; target = output (the tokenizer adds EOS).
    decoder-only: source = the same prompt; target = output + EOS for training rows, so the model
    learns to stop; the loss is computed on the target only.
    """
    source = format_prompt(instruction, example["input"], task_id)
    if architecture == "encoder-decoder":
        return {"source": source, "target": example["output"]}
    if architecture == "decoder-only":
        if split == "train":
            if eos_token is None:
                raise ValueError("Textualising decoder-only training rows needs the tokenizer EOS token.")
            return {"source": source, "target": example["output"] + eos_token}
        return {"source": source, "target": example["output"]}
    raise ValueError(f"Cannot textualise for a model of {architecture} architecture.")

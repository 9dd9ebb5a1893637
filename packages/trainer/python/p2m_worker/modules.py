"""Default LoRA target modules: the attention projections of each model family."""

from __future__ import annotations

from typing import Iterable

FAMILY_MODULES = {
    "t5": ["q", "k", "v", "o"],
    "bart": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "gpt2": ["c_attn", "attn.c_proj"],
    "neox": ["query_key_value", "dense"],
    "phi3": ["qkv_proj", "o_proj"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
}

MODEL_TYPE_FAMILY = {
    "t5": "t5", "mt5": "t5", "umt5": "t5", "longt5": "t5",
    "bart": "bart", "mbart": "bart", "pegasus": "bart", "marian": "bart", "m2m_100": "bart",
    "led": "bart", "blenderbot": "bart",
    "opt": "opt",
    "gpt2": "gpt2", "codegen": "gpt2", "gptj": "gpt2", "gpt_neo": "gpt2", "gpt_bigcode": "gpt2",
    "gpt_neox": "neox", "falcon": "neox", "bloom": "neox",
    "phi3": "phi3",
    "llama": "llama", "mistral": "llama", "mixtral": "llama", "qwen2": "llama", "qwen3": "llama",
    "gemma": "llama", "gemma2": "llama", "olmo": "llama", "phi": "llama",
}


def _present(target: str, names: list[str]) -> bool:
    # peft matches a target when a module name equals it or ends with "." + target.
    return any(name == target or name.endswith("." + target) for name in names)


def default_target_modules(model_type: str | None, module_names: Iterable[str]) -> list[str]:
    """The family's attention projections, checked against the model's real module names.

    When the model type is unknown (or its modules are named differently), the first family whose
    modules all exist in the model is used. Raises ValueError when none fits.
    """
    names = list(module_names)
    family = MODEL_TYPE_FAMILY.get(model_type or "")
    if family and all(_present(t, names) for t in FAMILY_MODULES[family]):
        return list(FAMILY_MODULES[family])
    for modules in FAMILY_MODULES.values():
        if all(_present(t, names) for t in modules):
            return list(modules)
    raise ValueError(
        f"Cannot pick LoRA target modules for model type {model_type!r}; "
        "set lora.targetModules in the job spec (e.g. the attention projection names)."
    )

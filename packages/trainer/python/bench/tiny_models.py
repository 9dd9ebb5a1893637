"""Tiny randomly initialised models built from configs, with a word-level tokenizer (no downloads).

    python tiny_models.py --out DIR [--kind t5|llama] [--hidden 64] [--layers 2] [--rows 64]

writes DIR/model (config, weights, tokenizer) and DIR/train.jsonl + DIR/validation.jsonl of a toy
task (add one to each digit). Used by bench_worker.py and by the trainer's tests when torch is present.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

INSTRUCTION = "Add one to each digit, modulo ten."
UPPERCASE_INSTRUCTION = "Write the words in uppercase."
WORDS = [
    "cat", "dog", "sun", "map", "red", "box", "cup", "hat", "pen", "owl", "fig", "jam", "kit", "log", "mud",
    "nut", "oak", "pig", "rug", "sea", "tea", "van", "web", "yak", "zip", "ant", "bee", "cow", "elf", "fox",
]


def toy_rows(count: int, seed: int) -> list:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        digits = [rng.randrange(10) for _ in range(rng.randrange(3, 9))]
        rows.append({"input": " ".join(map(str, digits)), "output": " ".join(str((d + 1) % 10) for d in digits)})
    return rows


def uppercase_rows(count: int, seed: int, max_words: int = 2) -> list:
    """The toy task a ~1M-parameter model learns on CPU in well under a minute: each word of a
    one- or two-word input in uppercase. Exact match on it shows the label mask, the prompt format
    and the end token all work (a model that learned the wrong thing scores near zero)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, max_words))]
        rows.append({"input": " ".join(words), "output": " ".join(word.upper() for word in words)})
    return rows


def write_jsonl(path: str, rows: list) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def training_texts(rows: list, instruction: str = INSTRUCTION) -> list:
    from p2m_worker.textualize import textualize

    texts = []
    for row in rows:
        text = textualize(row, instruction, "encoder-decoder")
        texts += [text["source"], text["target"]]
    return texts


def build_tokenizer(texts: list, seq2seq: bool):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]))
    if seq2seq:
        # T5 tokenizers append EOS to every sequence; do the same.
        tokenizer.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def build_t5(folder: str, texts: list, hidden: int = 256, layers: int = 4, heads: int = 4) -> str:
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = build_tokenizer(texts, seq2seq=True)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=hidden, d_kv=hidden // heads, d_ff=hidden * 4, num_layers=layers,
        num_decoder_layers=layers, num_heads=heads, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id,
    )
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_llama(folder: str, texts: list, hidden: int = 256, layers: int = 4, heads: int = 4) -> str:
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(texts, seq2seq=False)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 8 // 3, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--kind", choices=["t5", "llama"], default="llama")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--task", choices=["add-one", "uppercase"], default="add-one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import torch

    torch.manual_seed(args.seed)
    make_rows = toy_rows if args.task == "add-one" else uppercase_rows
    instruction = INSTRUCTION if args.task == "add-one" else UPPERCASE_INSTRUCTION
    rows = make_rows(args.rows, 1)
    held_out = make_rows(max(4, args.rows // 8), 2)
    write_jsonl(os.path.join(args.out, "train.jsonl"), rows)
    write_jsonl(os.path.join(args.out, "validation.jsonl"), held_out)
    write_jsonl(os.path.join(args.out, "test.jsonl"), make_rows(max(8, args.rows // 8), 3))
    build = build_t5 if args.kind == "t5" else build_llama
    texts = training_texts(rows + held_out + make_rows(max(8, args.rows // 8), 3), instruction)
    build(os.path.join(args.out, "model"), texts, hidden=args.hidden, layers=args.layers, heads=max(1, args.hidden // 32))
    print(json.dumps({"model": os.path.join(args.out, "model"), "instruction": instruction}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

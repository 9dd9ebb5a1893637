"""The ONNX export itself (torch.onnx, the dynamo exporter), in the layout transformers.js 4.x loads.

Only this module (of export) imports torch/transformers/onnx; ``export`` checks they exist first.

Names transformers.js relies on (see its ``getCacheNames``/``getPastKeyValues``/``decoder_forward``):
- decoder-only ``model.onnx``: ``input_ids``, ``attention_mask``, ``position_ids``,
  ``past_key_values.N.key|value`` → ``logits``, ``present.N.key|value``. The first step feeds empty
  (length 0) past tensors; their shape's symbolic ``batch_size`` is filled in, other symbols are 0.
- encoder-decoder ``encoder_model.onnx``: ``input_ids``, ``attention_mask`` → ``last_hidden_state``;
  ``decoder_model_merged.onnx``: ``encoder_attention_mask``, ``input_ids``, ``encoder_hidden_states``,
  ``past_key_values.N.decoder|encoder.key|value``, ``use_cache_branch`` → ``logits``,
  ``present.N.decoder|encoder.key|value``. After the first step transformers.js keeps the encoder
  (cross-attention) entries it got first, so only the decoder entries grow.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import time
import warnings

import onnx
import torch
import transformers
from onnx import helper, numpy_helper
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, DynamicCache

from .onnx_graph import fold_weight_transposes
from .protocol import EventWriter

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "vocab.json", "merges.txt")


def _major_version(module) -> int:
    try:
        return int(module.__version__.split(".")[0])
    except (AttributeError, ValueError):
        return 4


def load_model(plan: dict):
    """The model in fp32 on CPU, LoRA adapter merged, and its tokenizer."""
    config = AutoConfig.from_pretrained(plan["model"])
    encoder_decoder = bool(getattr(config, "is_encoder_decoder", False))
    model_class = AutoModelForSeq2SeqLM if encoder_decoder else AutoModelForCausalLM
    dtype_arg = "dtype" if _major_version(transformers) >= 5 else "torch_dtype"
    model = model_class.from_pretrained(plan["model"], **{dtype_arg: torch.float32})
    if plan.get("adapter"):
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, plan["adapter"]).merge_and_unload()
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(plan["tokenizer"])
    return model, tokenizer, encoder_decoder


def _quiet_export(module, args, path: str, **kwargs):
    """torch.onnx.export (dynamo) with its progress prints kept off our protocol's stdout; weight
    transposes folded into the weights (``fold_weight_transposes``)."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, args, path, dynamo=True, external_data=False, **kwargs)
    model = onnx.load(path)
    if fold_weight_transposes(model):
        onnx.save(model, path)
    return program


def _cache_layers(cache):
    """(keys, values) per layer of a transformers DynamicCache (4.x and 5.x)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


def _dynamic_cache(pairs, config):
    try:
        return DynamicCache(ddp_cache_data=pairs, config=config)
    except TypeError:  # transformers 4.x
        return DynamicCache.from_legacy_cache(tuple(pairs))


class CausalLMWithCache(torch.nn.Module):
    def __init__(self, model, layers: int):
        super().__init__()
        self.model = model
        self.layers = layers

    def forward(self, input_ids, attention_mask, position_ids, *past):
        cache = _dynamic_cache([(past[2 * i], past[2 * i + 1]) for i in range(self.layers)], self.model.config)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, past_key_values=cache, use_cache=True)
        present = []
        for keys, values in _cache_layers(out.past_key_values):
            present += [keys, values]
        return (out.logits, *present)


def _probe_cache_shapes(model, encoder_decoder: bool):
    """Layers and per-layer (heads, head size) of the self- and cross-attention caches, from one real forward pass."""
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        if encoder_decoder:
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=ids[:, :1], use_cache=True)
            cache = out.past_key_values
            self_layers = _cache_layers(cache.self_attention_cache)
            cross_layers = _cache_layers(cache.cross_attention_cache)
            return [(k.shape[1], k.shape[3]) for k, _ in self_layers], [(k.shape[1], k.shape[3]) for k, _ in cross_layers]
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
        return [(k.shape[1], k.shape[3]) for k, _ in _cache_layers(out.past_key_values)], []


def export_decoder_only(model, path: str, opset: int) -> None:
    shapes, _ = _probe_cache_shapes(model, False)
    layers = len(shapes)
    batch, sequence, past_length = 2, 3, 4
    vocab = int(model.config.vocab_size)
    ids = torch.randint(0, vocab, (batch, sequence))
    mask = torch.ones(batch, past_length + sequence, dtype=torch.long)
    positions = torch.arange(past_length, past_length + sequence).expand(batch, sequence)
    past = [torch.randn(batch, heads, past_length, size) for heads, size in shapes for _ in (0, 1)]
    b = torch.export.Dim("batch_size")
    s = torch.export.Dim("sequence_length")
    p = torch.export.Dim("past_sequence_length")
    total = torch.export.Dim("total_sequence_length")
    past_names = [f"past_key_values.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    present_names = [f"present.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    _quiet_export(
        CausalLMWithCache(model, layers),
        (ids, mask, positions, *past),
        path,
        input_names=["input_ids", "attention_mask", "position_ids", *past_names],
        output_names=["logits", *present_names],
        dynamic_shapes={
            "input_ids": {0: b, 1: s},
            "attention_mask": {0: b, 1: total},
            "position_ids": {0: b, 1: s},
            "past": tuple({0: b, 2: p} for _ in past_names),
        },
        opset_version=opset,
    )


class Encoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.encoder = model.get_encoder()

    def forward(self, input_ids, attention_mask):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class Seq2SeqDecoder(torch.nn.Module):
    """The decoder step; with ``with_past`` it takes the cache, else it starts one from the encoder output."""

    def __init__(self, model, layers: int, with_past: bool):
        super().__init__()
        self.model = model
        self.layers = layers
        self.with_past = with_past

    def forward(self, encoder_attention_mask, input_ids, encoder_hidden_states, *past):
        from transformers import EncoderDecoderCache
        from transformers.modeling_outputs import BaseModelOutput

        config = self.model.config
        if self.with_past:
            self_pairs = [(past[4 * i], past[4 * i + 1]) for i in range(self.layers)]
            cross_pairs = [(past[4 * i + 2], past[4 * i + 3]) for i in range(self.layers)]
            cache = EncoderDecoderCache(_dynamic_cache(self_pairs, config), _dynamic_cache(cross_pairs, config))
        else:
            cache = EncoderDecoderCache(_dynamic_cache([], config), _dynamic_cache([], config))
        out = self.model(
            encoder_outputs=BaseModelOutput(last_hidden_state=encoder_hidden_states),
            attention_mask=encoder_attention_mask,
            decoder_input_ids=input_ids,
            past_key_values=cache,
            use_cache=True,
        )
        present = []
        self_layers = _cache_layers(out.past_key_values.self_attention_cache)
        cross_layers = _cache_layers(out.past_key_values.cross_attention_cache)
        for i in range(self.layers):
            present += [self_layers[i][0], self_layers[i][1]]
            if self.with_past:
                # The cross-attention entries do not change; pass them through (transformers.js keeps its own).
                present += [past[4 * i + 2], past[4 * i + 3]]
            else:
                present += [cross_layers[i][0], cross_layers[i][1]]
        return (out.logits, *present)


def export_encoder(model, path: str, opset: int) -> None:
    ids = torch.randint(0, int(model.config.vocab_size), (2, 5))
    b = torch.export.Dim("batch_size")
    s = torch.export.Dim("encoder_sequence_length")
    _quiet_export(
        Encoder(model),
        (ids, torch.ones_like(ids)),
        path,
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_shapes={"input_ids": {0: b, 1: s}, "attention_mask": {0: b, 1: s}},
        opset_version=opset,
    )


def export_seq2seq_decoder(model, path: str, opset: int, work_dir: str):
    """Writes the merged decoder to ``path``; returns the two single-branch exports (in ``work_dir``)."""
    self_shapes, cross_shapes = _probe_cache_shapes(model, True)
    layers = len(self_shapes)
    hidden = int(getattr(model.config, "d_model", None) or model.config.hidden_size)
    batch, encoder_length, past_length = 2, 5, 3
    vocab = int(model.config.vocab_size)
    encoder_mask = torch.ones(batch, encoder_length, dtype=torch.long)
    encoder_states = torch.randn(batch, encoder_length, hidden)
    b = torch.export.Dim("batch_size")
    e = torch.export.Dim("encoder_sequence_length", min=1)
    kinds = [("decoder", "key"), ("decoder", "value"), ("encoder", "key"), ("encoder", "value")]
    present_names = [f"present.{i}.{part}.{kind}" for i in range(layers) for part, kind in kinds]
    base_inputs = ["encoder_attention_mask", "input_ids", "encoder_hidden_states"]

    no_past_path = os.path.join(work_dir, "decoder_model.onnx")
    step_ids = torch.randint(0, vocab, (batch, 2))
    _quiet_export(
        Seq2SeqDecoder(model, layers, with_past=False),
        (encoder_mask, step_ids, encoder_states),
        no_past_path,
        input_names=base_inputs,
        output_names=["logits", *present_names],
        dynamic_shapes={
            "encoder_attention_mask": {0: b, 1: e},
            "input_ids": {0: b, 1: torch.export.Dim("decoder_sequence_length")},
            "encoder_hidden_states": {0: b, 1: e},
        },
        opset_version=opset,
    )

    with_past_path = os.path.join(work_dir, "decoder_with_past_model.onnx")
    p = torch.export.Dim("past_decoder_sequence_length", min=1)
    past = []
    past_shapes = []
    for i in range(layers):
        (heads, size), (cross_heads, cross_size) = self_shapes[i], cross_shapes[i]
        past += [torch.randn(batch, heads, past_length, size), torch.randn(batch, heads, past_length, size)]
        past += [torch.randn(batch, cross_heads, encoder_length, cross_size), torch.randn(batch, cross_heads, encoder_length, cross_size)]
        past_shapes += [{0: b, 2: p}, {0: b, 2: p}, {0: b, 2: e}, {0: b, 2: e}]
    past_names = [f"past_key_values.{i}.{part}.{kind}" for i in range(layers) for part, kind in kinds]
    _quiet_export(
        Seq2SeqDecoder(model, layers, with_past=True),
        (encoder_mask, torch.randint(0, vocab, (batch, 1)), encoder_states, *past),
        with_past_path,
        input_names=[*base_inputs, *past_names],
        output_names=["logits", *present_names],
        dynamic_shapes={
            "encoder_attention_mask": {0: b, 1: e},
            "input_ids": {0: b},
            "encoder_hidden_states": {0: b, 1: e},
            "past": tuple(past_shapes),
        },
        opset_version=opset,
    )
    onnx.save(merge_decoders(onnx.load(no_past_path), onnx.load(with_past_path)), path)
    return no_past_path, with_past_path


def _tensor_key(tensor) -> str:
    array = numpy_helper.to_array(tensor)
    digest = hashlib.sha256(array.tobytes()).hexdigest()
    return f"{tensor.data_type}:{list(tensor.dims)}:{digest}"


def _generic_shape(value) -> None:
    """Symbolic sizes differ between the two branches (past length, new tokens): name each one after
    its output and axis, so both branches and the If agree; fixed sizes (heads, vocab) stay."""
    for axis, dim in enumerate(value.type.tensor_type.shape.dim):
        if not dim.HasField("dim_value"):
            dim.dim_param = f"{value.name}_dim_{axis}"


def _renamed_graph(graph, name: str, outer: set, shared: dict, prefix: str):
    """A copy of ``graph`` as an If branch: no inputs (they come from the outer scope), every other
    value prefixed so nothing shadows an outer name, weights found in ``shared`` read from the outer graph."""
    keep = set(outer)
    mapping = {}

    def rename(value: str) -> str:
        if value == "" or value in keep:
            return value
        if value not in mapping:
            mapping[value] = prefix + value
        return mapping[value]

    initializers = []
    for tensor in graph.initializer:
        key = _tensor_key(tensor)
        if key in shared:
            mapping[tensor.name] = shared[key]
            continue
        copy = onnx.TensorProto()
        copy.CopyFrom(tensor)
        copy.name = rename(tensor.name)
        initializers.append(copy)
    nodes = []
    for node in graph.node:
        if any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for attribute in node.attribute):
            raise ValueError(f"cannot merge a decoder graph with nested subgraphs ({node.op_type})")
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.ClearField("input")
        copy.ClearField("output")
        copy.input.extend(rename(value) for value in node.input)
        copy.output.extend(rename(value) for value in node.output)
        if copy.name:
            copy.name = prefix + copy.name
        nodes.append(copy)
    outputs = []
    for output in graph.output:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(output)
        copy.name = rename(output.name)
        _generic_shape(copy)
        outputs.append(copy)
    value_info = []
    for info in graph.value_info:
        if info.name in mapping:
            copy = onnx.ValueInfoProto()
            copy.CopyFrom(info)
            copy.name = mapping[info.name]
            value_info.append(copy)
    return helper.make_graph(nodes, name, [], outputs, initializer=initializers, value_info=value_info)


def merge_decoders(no_past, with_past):
    """One decoder that takes the cache or starts it, as optimum's merged decoders do: an If on
    ``use_cache_branch`` with the two exports as branches, their common weights stored once."""
    inputs = {value.name: value for value in no_past.graph.input}
    for value in with_past.graph.input:
        inputs.setdefault(value.name, value)
    outer_names = set(inputs) | {"use_cache_branch"}
    no_past_keys = {_tensor_key(t): t for t in no_past.graph.initializer}
    shared = {}
    outer_initializers = []
    for tensor in with_past.graph.initializer:
        key = _tensor_key(tensor)
        if key in no_past_keys and key not in shared:
            name = f"shared.{len(shared)}.{tensor.name}"
            shared[key] = name
            copy = onnx.TensorProto()
            copy.CopyFrom(tensor)
            copy.name = name
            outer_initializers.append(copy)
    outer_names |= set(shared.values())
    then_branch = _renamed_graph(with_past.graph, "with_past", outer_names, shared, "with_past/")
    else_branch = _renamed_graph(no_past.graph, "no_past", outer_names, shared, "no_past/")
    output_names = [value.name for value in with_past.graph.output]
    if output_names != [value.name for value in no_past.graph.output]:
        raise ValueError("the two decoder exports have different outputs")
    if_node = helper.make_node("If", ["use_cache_branch"], output_names, name="use_cache_branch_if", then_branch=then_branch, else_branch=else_branch)
    outputs = []
    for value in with_past.graph.output:
        copy = onnx.ValueInfoProto()
        copy.CopyFrom(value)
        _generic_shape(copy)
        outputs.append(copy)
    # Shapes of the merged inputs: the with-past export's for the cache, the other's for the rest.
    graph_inputs = [inputs[value.name] for value in no_past.graph.input]
    graph_inputs += [value for value in with_past.graph.input if value.name not in {v.name for v in no_past.graph.input}]
    graph_inputs.append(helper.make_tensor_value_info("use_cache_branch", onnx.TensorProto.BOOL, [1]))
    graph = helper.make_graph([if_node], "decoder_model_merged", graph_inputs, outputs, initializer=outer_initializers)
    opsets = {}
    for model in (no_past, with_past):
        for entry in model.opset_import:
            opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets.items()])
    merged.ir_version = max(no_past.ir_version, with_past.ir_version)
    onnx.checker.check_model(merged)
    return merged


def quantize_q8(path: str) -> str:
    """onnxruntime's dynamic int8 quantization of the weights, beside the fp32 file (``*_quantized.onnx``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = path[: -len(".onnx")] + "_quantized.onnx"
    with contextlib.redirect_stdout(io.StringIO()):
        quantize_dynamic(path, target, weight_type=QuantType.QInt8)
    return target


def write_configs(model, tokenizer, out: str) -> None:
    model.config.save_pretrained(out)
    generation = model.generation_config
    # transformers.js reads the special tokens from here; fill what the model config knows.
    for key in ("eos_token_id", "pad_token_id", "bos_token_id", "decoder_start_token_id"):
        if getattr(generation, key, None) is None and getattr(model.config, key, None) is not None:
            setattr(generation, key, getattr(model.config, key))
    if getattr(generation, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
        generation.pad_token_id = tokenizer.pad_token_id
    generation.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if not os.path.isfile(os.path.join(out, "tokenizer.json")):
        raise ValueError("the tokenizer has no fast (tokenizer.json) form, which transformers.js needs")
    # transformers.js picks its tokenizer class by name; the Python-only backend names mean nothing there.
    config_path = os.path.join(out, "tokenizer_config.json")
    with open(config_path, encoding="utf-8") as handle:
        tokenizer_config = json.load(handle)
    if tokenizer_config.get("tokenizer_class") in (None, "TokenizersBackend", "PreTrainedTokenizerFast"):
        tokenizer_config["tokenizer_class"] = "PreTrainedTokenizer"
    for key in ("eos_token", "pad_token", "bos_token", "unk_token"):
        value = getattr(tokenizer, key, None)
        if isinstance(value, str) and key not in tokenizer_config:
            tokenizer_config[key] = value
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(tokenizer_config, handle, indent=2, ensure_ascii=False)


def run(plan: dict, options, events: EventWriter) -> dict:
    started = time.perf_counter()
    torch.manual_seed(0)
    model, tokenizer, encoder_decoder = load_model(plan)
    architecture = "encoder-decoder" if encoder_decoder else "decoder-only"
    stages = ["encoder", "decoder"] if encoder_decoder else ["model"]
    if options.quantize:
        stages.append("quantize")
    events.emit("start", totalSteps=len(stages), model=plan["model"], architecture=architecture, format="onnx", quantize=options.quantize)
    out = os.path.abspath(options.out)
    onnx_dir = os.path.join(out, "onnx")
    work_dir = os.path.join(out, ".export-work")
    if os.path.isdir(onnx_dir):
        shutil.rmtree(onnx_dir)
    os.makedirs(onnx_dir, exist_ok=True)
    os.makedirs(work_dir, exist_ok=True)
    write_configs(model, tokenizer, out)
    files = []
    done = 0

    def step(stage: str) -> None:
        nonlocal done
        done += 1
        events.emit("step", step=done, totalSteps=len(stages), stage=stage, seconds=round(time.perf_counter() - started, 3))

    with torch.no_grad():
        if encoder_decoder:
            encoder_path = os.path.join(onnx_dir, "encoder_model.onnx")
            export_encoder(model, encoder_path, options.opset)
            step("encoder")
            decoder_path = os.path.join(onnx_dir, "decoder_model_merged.onnx")
            branches = export_seq2seq_decoder(model, decoder_path, options.opset, work_dir)
            step("decoder")
            files += [encoder_path, decoder_path]
        else:
            branches = ()
            model_path = os.path.join(onnx_dir, "model.onnx")
            export_decoder_only(model, model_path, options.opset)
            step("model")
            files.append(model_path)
    quantized = []
    if options.quantize:
        for path in files:
            if path.endswith("decoder_model_merged.onnx"):
                # The quantizer leaves weights an If branch reads from the outer graph alone: quantize
                # each branch, then merge (identical quantized weights are still stored once).
                parts = [onnx.load(quantize_q8(branch)) for branch in branches]
                target = path[: -len(".onnx")] + "_quantized.onnx"
                onnx.save(merge_decoders(*parts), target)
                quantized.append(target)
            else:
                quantized.append(quantize_q8(path))
        step("quantize")
    shutil.rmtree(work_dir, ignore_errors=True)
    sizes = {os.path.relpath(path, out): os.path.getsize(path) for path in files + quantized}
    return {
        "out": out,
        "architecture": architecture,
        "files": sizes,
        "bytes": sum(os.path.getsize(path) for path in files),
        "quantizedBytes": sum(os.path.getsize(path) for path in quantized) if quantized else None,
        "seconds": time.perf_counter() - started,
    }

"""Graph surgery on exported ONNX models that needs only ``onnx`` (no torch, no transformers), so
its tests run in a second instead of paying for transformers' import."""

from __future__ import annotations

import onnx
from onnx import numpy_helper


def _uses(graph, name: str) -> bool:
    if any(name in node.input for node in graph.node) or any(value.name == name for value in graph.output):
        return True
    return any(_uses(attribute.g, name) for node in graph.node for attribute in node.attribute if attribute.type == onnx.AttributeProto.GRAPH)


def fold_weight_transposes(model) -> int:
    """Replaces each ``Transpose`` of a weight (an initializer) by the transposed weight; returns how many.

    The exporter writes a linear layer whose weight is also read elsewhere (a tied embedding, the
    ``lm_head`` of T5 or GPT-2) as ``MatMul(x, Transpose(W))``. onnxruntime folds that at load time,
    but inside an If (the merged decoder) each branch folds its own copy: a t5-small student held the
    66 MB transposed ``lm_head`` twice more in memory than it needed to. Folded here, both branches'
    copies are equal and ``merge_decoders`` stores them once, and the int8 quantizer, which only
    quantizes a MatMul whose weight is an initializer, quantizes the ``lm_head`` too."""
    graph = model.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    kept, added, folded = [], [], 0
    for node in graph.node:
        if node.op_type == "Transpose" and len(node.input) == 1 and node.input[0] in weights:
            perm = next((list(attribute.ints) for attribute in node.attribute if attribute.name == "perm"), None)
            array = numpy_helper.to_array(weights[node.input[0]])
            added.append(numpy_helper.from_array(array.transpose(perm).copy(), node.output[0]))
            folded += 1
        else:
            kept.append(node)
    if not folded:
        return 0
    graph.ClearField("node")
    graph.node.extend(kept)
    graph.initializer.extend(added)
    unused = [tensor for tensor in graph.initializer if not _uses(graph, tensor.name)]
    for tensor in unused:
        graph.initializer.remove(tensor)
    inputs = [value for value in graph.input if value.name not in {tensor.name for tensor in unused}]
    graph.ClearField("input")
    graph.input.extend(inputs)
    return folded

"""Graph clean-up after mapping: fold constant layout ops, fuse conv bias, drop identities.

Each pass is exact: folding only runs ops that move or re-type data (no arithmetic), and
the bias fusion only fires when the added tensor is a per-channel constant.
"""

from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

logger = logging.getLogger(__name__)

# Ops whose result on constant inputs is a pure rearrangement (or cast) of the data, so
# evaluating them ahead of time cannot change a value.
_FOLDABLE = frozenset(
    {
        "Reshape",
        "Transpose",
        "Unsqueeze",
        "Squeeze",
        "Flatten",
        "Cast",
        "Concat",
        "Identity",
        "Gather",
        "Slice",
        "Expand",
        "Shape",
        "Constant",
    }
)
# Do not materialise folded tensors larger than this (an Expand could blow up the file).
_MAX_FOLDED_BYTES = 64 * 1024 * 1024


def optimize(model: onnx.ModelProto) -> onnx.ModelProto:
    """Run every pass on ``model`` in place and return it."""
    graph = model.graph
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    folded = _fold_constants(graph, opset)
    fused = _fuse_conv_bias(graph)
    _drop_unused_initializers(graph)
    if folded or fused:
        logger.debug("optimize: folded %d constant nodes, fused %d conv biases", folded, fused)
    return model


def _initializers(graph) -> dict[str, onnx.TensorProto]:
    return {t.name: t for t in graph.initializer}


def _graph_outputs(graph) -> set[str]:
    return {o.name for o in graph.output}


def _fold_constants(graph, opset: int) -> int:
    inits = _initializers(graph)
    outputs = _graph_outputs(graph)
    kept, folded = [], 0
    for node in graph.node:
        inputs = [i for i in node.input if i]
        if (
            node.op_type not in _FOLDABLE
            or node.domain not in ("", "ai.onnx")
            or not all(i in inits for i in inputs)
            or any(o in outputs for o in node.output)
        ):
            kept.append(node)
            continue
        values = _evaluate(node, {i: numpy_helper.to_array(inits[i]) for i in inputs}, opset)
        if values is None or sum(v.nbytes for v in values) > _MAX_FOLDED_BYTES:
            kept.append(node)
            continue
        for name, value in zip(node.output, values):
            tensor = numpy_helper.from_array(np.asarray(value), name)
            graph.initializer.append(tensor)
            inits[name] = tensor
        folded += 1
    del graph.node[:]
    graph.node.extend(kept)
    return folded


def _evaluate(node, feeds: dict, opset: int):
    names = list(feeds)
    inputs = [onnx.helper.make_tensor_value_info(n, 0, None) for n in names]
    outputs = [onnx.helper.make_tensor_value_info(o, 0, None) for o in node.output]
    sub = onnx.helper.make_graph([node], "fold", inputs, outputs)
    model = onnx.helper.make_model(sub, opset_imports=[onnx.helper.make_opsetid("", opset)])
    try:
        return ReferenceEvaluator(model).run(None, feeds)
    except Exception as e:  # leave the node for the runtime; folding is only a nicety
        logger.debug("not folding %s: %s", node.op_type, e)
        return None


def _fuse_conv_bias(graph) -> int:
    """Turn ``Add(Conv(x, w), b)`` with b of shape [1, C, 1, 1] (or [C, 1, 1]) into a bias."""
    inits = _initializers(graph)
    outputs = _graph_outputs(graph)
    producers = {o: n for n in graph.node for o in n.output}
    readers: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            readers[i] = readers.get(i, 0) + 1
    removed, fused = set(), 0
    for node in graph.node:
        if node.op_type != "Add" or len(node.input) != 2:
            continue
        for conv_out, other in (node.input, node.input[::-1]):
            conv = producers.get(conv_out)
            if (
                conv is None
                or conv.op_type != "Conv"
                or len(conv.input) != 2
                or other not in inits
                or readers.get(conv_out) != 1
                or conv_out in outputs
            ):
                continue
            bias = numpy_helper.to_array(inits[other])
            weight = inits.get(conv.input[1])
            if weight is None or not _is_channel_vector(
                bias, weight.dims[0], len(weight.dims)
            ):
                continue
            flat = numpy_helper.from_array(
                bias.reshape(-1).astype(bias.dtype), f"{other}__conv_bias"
            )
            graph.initializer.append(flat)
            conv.input.append(flat.name)
            conv.output[0] = node.output[0]
            removed.add(id(node))
            fused += 1
            break
    if removed:
        kept = [n for n in graph.node if id(n) not in removed]
        del graph.node[:]
        graph.node.extend(kept)
    return fused


def _is_channel_vector(bias: np.ndarray, channels: int, rank: int) -> bool:
    """True when ``bias`` broadcasts as one value per output channel of an NC... conv."""
    if bias.size != channels:
        return False
    shape = list(bias.shape)
    full = [1] * (rank - len(shape)) + shape
    return (
        len(full) == rank
        and full[1] == channels
        and all(d == 1 for i, d in enumerate(full) if i != 1)
    )


def _drop_unused_initializers(graph) -> None:
    used = {i for n in graph.node for i in n.input} | _graph_outputs(graph)
    kept = [t for t in graph.initializer if t.name in used]
    if len(kept) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(kept)
